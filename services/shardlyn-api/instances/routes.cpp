// Instance Endpoints: CRUD & Lifecycle, Stats & Monitoring.
#include <boost/json.hpp>

#include "agentproto/json.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "instances/lifecycle.hpp"
#include "instances/routes.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::int64_t kRawWindow = 24 * 3600;

json::value state_or_null(const std::optional<agentproto::InstanceState>& s) {
  if (!s) return nullptr;
  return json::string(agentproto::to_string(*s));
}

json::object stats_json(const agentproto::InstanceStats& s) { return json::value_from(s).as_object(); }

json::object instance_json(const InstanceRecord& r) {
  json::object variables;
  for (const auto& [k, v] : r.variables) variables[k] = v;
  json::array transitions, crashes;
  for (const auto& t : r.transitions)
    transitions.push_back({{"from", state_or_null(t.from)},
                           {"to", agentproto::to_string(t.to)},
                           {"reason", t.reason},
                           {"actor", t.actor},
                           {"at", common::rfc3339_from_unix(t.at)}});
  for (const auto& c : r.crashes)
    crashes.push_back({{"exit_code", json::value_from(c.exit_code)},
                       {"oom_killed", c.oom_killed},
                       {"reason", c.reason},
                       {"last_lines", json::value_from(c.last_lines)},
                       {"at", common::rfc3339_from_unix(c.at)}});
  return {{"id", r.id},
          {"name", r.name},
          {"organization_id", r.org_id},
          {"workload_id", r.workload_id},
          {"node_id", r.node_id},
          {"state", agentproto::to_string(r.state)},
          {"state_reason", r.state_reason},
          {"state_changed_at", common::rfc3339_from_unix(r.state_at)},
          {"desired_state", agentproto::to_string(r.desired)},
          {"restart_generation", r.restart_generation},
          {"kill_generation", r.kill_generation},
          {"exit_code", json::value_from(r.exit_code)},
          {"variables", std::move(variables)},
          {"resources", r.resources ? json::value(*r.resources) : json::value(nullptr)},
          {"install", {{"succeeded", json::value_from(r.install_succeeded)},
                       {"output", json::value_from(r.install_output)}}},
          {"transitions", std::move(transitions)},
          {"crashes", std::move(crashes)},
          {"created_at", common::rfc3339_from_unix(r.created_at)},
          {"updated_at", common::rfc3339_from_unix(r.updated_at)}};
}

std::string instance_id(const common::Request& req) { return fields::uuid_param(req, "id", "instance"); }

// {"ENV": "value"}: every value a string, every name an environment name.
std::map<std::string, std::string> variables_of(const json::object& body) {
  std::map<std::string, std::string> out;
  auto object = common::input::optional_object(body, "variables");
  if (!object) return out;
  for (const auto& [k, v] : *object) {
    if (!v.is_string())
      throw common::ApiError::validation("'variables." + std::string(k) + "' must be a string");
    out[std::string(k)] = std::string(v.as_string());
  }
  return out;
}

common::Response list_instances(InstanceArea& area, common::Request& req) {
  auto node = common::input::query_text(req, "node_id", 64);
  auto workload = common::input::query_text(req, "workload_id", 64);
  json::array items;
  for (const auto& r : area.instances.list(caller_of(req), node, workload)) items.push_back(instance_json(r));
  return list_page(req, std::move(items));
}

common::Response create_instance(InstanceArea& area, common::Request& req) {
  auto body = req.json_object();
  NewInstance request{common::input::text(body, "workload_id", {.min = 36, .max = 36}),
                      common::input::text(body, "name", {.min = 1, .max = 100}),
                      common::input::optional_text(body, "node_id", {.min = 1, .max = 64}), variables_of(body),
                      common::input::optional_object(body, "resources")};
  return common::Response::json(instance_json(area.instances.create(caller_of(req), request)), 201);
}

common::Response show_instance(InstanceArea& area, common::Request& req) {
  return common::Response::json(instance_json(area.instances.get(caller_of(req), instance_id(req))));
}

common::Response update_instance(InstanceArea& area, common::Request& req) {
  auto body = req.json_object();
  InstanceChanges changes{common::input::optional_text(body, "name", {.min = 1, .max = 100}), std::nullopt,
                          common::input::optional_object(body, "resources")};
  if (body.contains("variables")) changes.variables = variables_of(body);
  return common::Response::json(instance_json(area.instances.update(caller_of(req), instance_id(req), changes)));
}

common::Response delete_instance(InstanceArea& area, common::Request& req) {
  return common::Response::json(instance_json(area.instances.remove(caller_of(req), instance_id(req))), 202);
}

template <PowerAction action>
common::Response power_instance(InstanceArea& area, common::Request& req) {
  return common::Response::json(instance_json(area.instances.act(caller_of(req), instance_id(req), action)), 202);
}

// GET /v1/instances/{id}/install-logs: the last install run's output and result, as its agent reported them.
common::Response install_logs(InstanceArea& area, common::Request& req) {
  auto r = area.instances.get(caller_of(req), instance_id(req));
  return common::Response::json({{"instance_id", r.id},
                                 {"state", agentproto::to_string(r.state)},
                                 {"succeeded", json::value_from(r.install_succeeded)},
                                 {"lines", json::value_from(r.install_output)}});
}

common::Response instance_stats(InstanceArea& area, common::Request& req) {
  auto r = area.instances.get(caller_of(req), instance_id(req));
  json::object out{{"instance_id", r.id},
                   {"state", agentproto::to_string(r.state)},
                   {"reported_at", r.stats_at ? json::value(common::rfc3339_from_unix(*r.stats_at)) : nullptr},
                   {"disk_bytes", r.stats && r.stats->disk_bytes ? json::value(*r.stats->disk_bytes) : nullptr}};
  auto now = store::unix_now();
  auto recent = area.instances.history(caller_of(req), r.id, {now - 120, now, 0});
  out["cpu_usage"] = recent.empty() || !recent.back().cpu_usage ? json::value(nullptr) : json::value(*recent.back().cpu_usage);
  out["stats"] = r.stats ? json::value(stats_json(*r.stats)) : json::value(nullptr);
  return common::Response::json(out);
}

common::Response metrics_history(InstanceArea& area, common::Request& req) {
  auto now = store::unix_now();
  MetricsQuery q;
  q.to = common::input::query_timestamp(req, "to").value_or(now);
  q.from = common::input::query_timestamp(req, "from").value_or(q.to - 3600);
  if (q.from > q.to) throw common::ApiError::validation("'from' must not be after 'to'");
  auto resolution = common::input::query_one_of(req, "resolution", {"raw", "5m"});
  q.resolution = resolution ? (*resolution == "5m" ? 300 : 0) : (q.from < now - kRawWindow ? 300 : 0);
  json::array points;
  for (const auto& p : area.instances.history(caller_of(req), instance_id(req), q))
    points.push_back({{"at", common::rfc3339_from_unix(p.at)},
                      {"cpu_seconds", p.cpu_seconds},
                      {"cpu_usage", p.cpu_usage ? json::value(*p.cpu_usage) : json::value(nullptr)},
                      {"memory_bytes", p.memory_bytes},
                      {"pids", p.pids},
                      {"rx_bytes", p.rx_bytes},
                      {"tx_bytes", p.tx_bytes},
                      {"uptime_ms", p.uptime_ms}});
  return common::Response::json({{"resolution", q.resolution == 300 ? "5m" : "raw"},
                                 {"from", common::rfc3339_from_unix(q.from)},
                                 {"to", common::rfc3339_from_unix(q.to)},
                                 {"points", std::move(points)}});
}

}  // namespace

Routes instance_routes(InstanceArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  return group(
      "/v1/instances", member,
      {
          get("", "instances.read", bind(area, list_instances),
              {.query = {"limit", "node_id", "page", "per_page", "workload_id"}}),
          post("", "instances.create", bind(area, create_instance),
               {.fields = {"name", "node_id", "resources", "variables", "workload_id"}}),
          get("/{id}", "instances.read", bind(area, show_instance)),
          put("/{id}", "instances.update", bind(area, update_instance), {.fields = {"name", "resources", "variables"}}),
          del("/{id}", "instances.delete", bind(area, delete_instance)),
          post("/{id}/start", "instances.power", bind(area, power_instance<PowerAction::Start>)),
          post("/{id}/stop", "instances.power", bind(area, power_instance<PowerAction::Stop>)),
          post("/{id}/restart", "instances.power", bind(area, power_instance<PowerAction::Restart>)),
          post("/{id}/kill", "instances.power", bind(area, power_instance<PowerAction::Kill>)),
          get("/{id}/install-logs", "instances.logs", bind(area, install_logs)),
          get("/{id}/stats", "instances.read", bind(area, instance_stats)),
          get("/{id}/metrics/history", "instances.read", bind(area, metrics_history),
              {.query = {"from", "resolution", "to"}}),
      });
}

}  // namespace shardlyn
