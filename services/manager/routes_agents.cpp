// Agent routes: register, heartbeat, list, get, metrics history, deregister.
#include "routes.hpp"

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

}  // namespace

void add_agent_routes(common::Service& service, Fleet& fleet) {
  auto& agents = fleet.agents;
  service.add({
      {.method = "POST",
       .path = "/api/agents/register",
       .auth = "fleet",
       .fields = {"arch", "endpoint", "hostname", "ip", "machineId", "os", "tags", "version"},
       .handler =
           [&agents, &fleet](common::Request& req) {
             auto reg = agents.enroll(parse_registration(req.json_object()));
             if (reg.created)
               fleet.events.publish("agent_online",
                                    boost::json::serialize(boost::json::object{{"agentId", reg.agent["agentId"]},
                                                                               {"hostname", reg.agent["hostname"]},
                                                                               {"status", "online"},
                                                                               {"reason", "registered"}}));
             auto body = std::move(reg.agent);
             body["agentToken"] = reg.token;
             return common::envelope_ok(std::move(body), reg.created ? 201 : 200);
           }},
      {.method = "POST",
       .path = "/api/agents/{id}/heartbeat",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .fields = {"activeMonitors", "cpuUsage", "eventsProcessed", "memUsage", "mode", "threatCount", "timestamp",
                  "uptime", "version"},
       .handler =
           [&agents](common::Request& req) {
             std::string id(req.param("id"));
             auto agent = agents.heartbeat(id, parse_heartbeat(req.json_object()),
                                           [&id](store::Connection& c, boost::json::object& a) {
                                             a["policyVersion"] = Policies::version_for(c, id);  // 0: no policy yet
                                           });
             if (!agent) throw agent_not_found();
             return common::envelope_ok(std::move(*agent));
           },
       // On the worker pool: concurrent heartbeats then share commits (group commit).
       .offload = true},
      {.method = "GET",
       .path = "/api/agents",
       .auth = "fleet",
       .query = {"limit", "os", "page", "search", "status", "tag"},
       .handler =
           [&agents](common::Request& req) {
             AgentFilter f;
             f.status = in::query_one_of(req, "status", {"online", "stale", "offline"});
             f.os = req.query_param("os");
             f.tag = req.query_param("tag");
             f.search = req.query_param("search");
             if (f.search) common::input::check_text(*f.search, "search", {.max = 253});
             f.page = common::parse_page(req);
             auto [items, total] = agents.list(f);
             return common::envelope_page(std::move(items), total, f.page);
           }},
      {.method = "GET",
       .path = "/api/agents/{id}",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .handler =
           [&agents, &fleet](common::Request& req) {
             std::string id(req.param("id"));
             auto agent = agents.find(id);
             if (!agent) throw agent_not_found();
             (*agent)["policyVersion"] = fleet.policies.version_for(id);  // override or active; 0 = none
             ThreatFilter recent{.agent_id = id, .page = {.page = 1, .limit = kRecentThreats}};
             (*agent)["recentThreats"] = fleet.threats.list(recent).first;
             return common::envelope_ok(std::move(*agent));
           }},
      {.method = "GET",
       .path = "/api/agents/{id}/metrics",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .query = {"limit", "page", "since"},
       .handler =
           [&agents](common::Request& req) {
             std::int64_t since = in::query_timestamp(req, "since").value_or(common::unix_seconds() - 24 * 3600);
             auto page = common::parse_page(req);
             auto samples = agents.metrics(std::string(req.param("id")), since, page);
             if (!samples) throw agent_not_found();
             return common::envelope_page(std::move(samples->first), samples->second, page);
           }},
      {.method = "DELETE",
       .path = "/api/agents/{id}",
       .auth = "fleet",
       .handler =
           [&agents](common::Request& req) {
             std::string id(req.param("id"));
             if (!agents.remove(id)) throw agent_not_found();
             return common::envelope_ok(boost::json::object{{"agentId", id}, {"deregistered", true}});
           }},
  });
}

}  // namespace manager
