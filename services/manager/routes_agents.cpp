// Agent routes: register, heartbeat, list, get, metrics history, deregister.
#include "routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"

namespace manager {

namespace {

namespace in = common::input;

Registration parse_registration(const boost::json::object& b) {
  Registration r;
  r.hostname = in::text(b, "hostname", {.max = 253});
  r.os = in::text(b, "os", {.max = 64});
  r.arch = in::text(b, "arch", {.max = 32});
  r.version = in::text(b, "version", {.max = 64});
  r.ip = in::optional_text(b, "ip", {.max = 64});
  r.endpoint = in::optional_text(b, "endpoint", {.max = 2048});
  if (r.endpoint && !(r.endpoint->starts_with("http://") || r.endpoint->starts_with("https://")))
    throw common::ApiError::validation("'endpoint' must be an http:// or https:// URL");
  r.machine_id = in::optional_text(b, "machineId", {.max = 128});
  r.tags = in::text_list(b, "tags", 32, {.max = 64});
  return r;
}

Heartbeat parse_heartbeat(const boost::json::object& b) {
  Heartbeat h;
  in::optional_timestamp(b, "timestamp");  // validated; the server's clock decides liveness
  h.cpu_usage = in::number(b, "cpuUsage", 0, 100);
  h.mem_usage = in::number(b, "memUsage", 0, 100);
  h.active_monitors = in::integer(b, "activeMonitors", 0, 1'000'000);
  h.threat_count = in::integer(b, "threatCount", 0, INT64_MAX);
  h.events_processed = in::integer(b, "eventsProcessed", 0, INT64_MAX);
  h.mode = in::one_of(b, "mode", {"learning", "protection"});
  h.uptime = in::integer(b, "uptime", 0, INT64_MAX);
  h.version = in::optional_text(b, "version", {.max = 64});
  return h;
}

constexpr std::int64_t kRecentThreats = 10;  // newest threats shown with an agent

common::ApiError agent_not_found() { return common::ApiError::not_found("agent not found"); }

boost::json::object sample_json(const MetricSample& m) {
  return {{"timestamp", common::rfc3339_from_unix(m.at)},
          {"cpuUsage", m.cpu_usage},
          {"memUsage", m.mem_usage},
          {"activeMonitors", m.active_monitors},
          {"threatCount", m.threat_count},
          {"eventsProcessed", m.events_processed},
          {"mode", m.mode},
          {"uptime", m.uptime}};
}

common::Response register_agent(Fleet& fleet, common::Request& req) {
  auto reg = fleet.agents.enroll(parse_registration(req.json_object()));
  if (reg.created)
    fleet.events.publish("agent_online", boost::json::serialize(boost::json::object{{"agentId", reg.agent.id},
                                                                                    {"hostname", reg.agent.hostname},
                                                                                    {"status", "online"},
                                                                                    {"reason", "registered"}}));
  auto body = agent_json(reg.agent);
  body["agentToken"] = reg.token;
  return common::envelope_ok(std::move(body), reg.created ? 201 : 200);
}

common::Response heartbeat(Fleet& fleet, common::Request& req) {
  std::string id(req.param("id"));
  std::int64_t policy_version = 0;  // 0: no policy yet
  auto agent = fleet.agents.heartbeat(id, parse_heartbeat(req.json_object()),
                                      [&](store::Connection& c) { policy_version = Policies::version_for(c, id); });
  if (!agent) throw agent_not_found();
  // The hot path: the envelope written as text (the same bytes envelope_ok writes).
  std::string body = R"({"ok":true,"data":)";
  JsonObjectText data(body);
  write_agent(data, *agent);
  data.integer("policyVersion", policy_version).close();
  body += '}';
  return common::Response::text(std::move(body), "application/json");
}

common::Response agent_metrics(Fleet& fleet, common::Request& req) {
  std::int64_t since = in::query_timestamp(req, "since").value_or(common::unix_seconds() - 24 * 3600);
  auto page = common::parse_page(req);
  auto samples = fleet.agents.metrics(std::string(req.param("id")), since, page);
  if (!samples) throw agent_not_found();
  boost::json::array items;
  for (const auto& m : samples->first) items.push_back(sample_json(m));
  return common::envelope_page(std::move(items), samples->second, page);
}

common::Response list_agents(Fleet& fleet, common::Request& req) {
  AgentFilter f;
  f.status = in::query_one_of(req, "status", {"online", "stale", "offline"});
  f.os = req.query_param("os");
  f.tag = req.query_param("tag");
  f.search = req.query_param("search");
  if (f.search) common::input::check_text(*f.search, "search", {.max = 253});
  f.page = common::parse_page(req);
  auto [agents, total] = fleet.agents.list(f);
  boost::json::array items;
  for (const auto& a : agents) items.push_back(agent_json(a));
  return common::envelope_page(std::move(items), total, f.page);
}

common::Response show_agent(Fleet& fleet, common::Request& req) {
  std::string id(req.param("id"));
  auto agent = fleet.agents.find(id);
  if (!agent) throw agent_not_found();
  auto body = agent_json(*agent);
  body["policyVersion"] = fleet.policies.version_for(id);  // override or active; 0 = none
  boost::json::array recent;
  for (const auto& t : fleet.threats.list({.agent_id = id, .page = {.page = 1, .limit = kRecentThreats}}).first)
    recent.push_back(threat_json(t));
  body["recentThreats"] = std::move(recent);
  return common::envelope_ok(std::move(body));
}

common::Response deregister_agent(Fleet& fleet, common::Request& req) {
  std::string id(req.param("id"));
  if (!fleet.agents.remove(id)) throw agent_not_found();
  return common::envelope_ok(boost::json::object{{"agentId", id}, {"deregistered", true}});
}

}  // namespace

void write_agent(JsonObjectText& o, const Agent& a) {
  o.text("agentId", a.id).text("hostname", a.hostname);
  JsonObjectText platform(o.member("platform"));
  platform.text("os", a.os).text("arch", a.arch).text("ip", a.ip).close();
  o.text("version", a.version).text("machineId", a.machine_id).text("endpoint", a.endpoint);
  o.strings("tags", a.tags);
  o.text("mode", a.mode)
      .text("registeredAt", common::rfc3339_from_unix(a.registered_at))
      .text("lastHeartbeat", common::rfc3339_from_unix(a.last_heartbeat))
      .text("status", a.status);
}

boost::json::object agent_json(const Agent& agent) {
  std::string text;
  JsonObjectText o(text);
  write_agent(o, agent);
  o.close();
  return boost::json::parse(text).as_object();
}

std::vector<common::Route> agent_routes(Fleet& fleet) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/agents/register",
       .auth = "fleet",
       .fields = {"arch", "endpoint", "hostname", "ip", "machineId", "os", "tags", "version"},
       .handler = [&fleet](Request& r) { return register_agent(fleet, r); }},
      // On the worker pool: concurrent heartbeats then share commits (group commit).
      {.method = "POST",
       .path = "/api/agents/{id}/heartbeat",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .fields = {"activeMonitors", "cpuUsage", "eventsProcessed", "memUsage", "mode", "threatCount", "timestamp",
                  "uptime", "version"},
       .handler = [&fleet](Request& r) { return heartbeat(fleet, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/agents/{id}/metrics",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .query = {"limit", "page", "since"},
       .handler = [&fleet](Request& r) { return agent_metrics(fleet, r); }},
      {.method = "GET",
       .path = "/api/agents",
       .auth = "fleet",
       .query = {"limit", "os", "page", "search", "status", "tag"},
       .handler = [&fleet](Request& r) { return list_agents(fleet, r); }},
      {.method = "GET",
       .path = "/api/agents/{id}",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .handler = [&fleet](Request& r) { return show_agent(fleet, r); }},
      {.method = "DELETE",
       .path = "/api/agents/{id}",
       .auth = "fleet",
       .handler = [&fleet](Request& r) { return deregister_agent(fleet, r); }},
  };
}

}  // namespace manager
