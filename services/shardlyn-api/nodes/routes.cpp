// Node Endpoints and the agent's registration and heartbeat routes.
#include "nodes/routes.hpp"

#include <boost/json.hpp>

#include "agentproto/json.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/shapes.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::value metrics_json(const std::optional<MetricsPoint>& m) {
  if (!m) return nullptr;
  return json::object{{"at", common::rfc3339_from_unix(m->at)},
                      {"cpu_usage", m->cpu_usage},
                      {"memory_used_bytes", m->memory_used},
                      {"memory_total_bytes", m->memory_total},
                      {"disk_used_bytes", m->disk_used},
                      {"disk_total_bytes", m->disk_total},
                      {"rx_bytes", m->rx_bytes},
                      {"tx_bytes", m->tx_bytes},
                      {"load_one", m->load_one}};
}

json::object node_json(const NodeView& v) {
  const auto& n = v.node;
  json::object labels;
  for (const auto& [k, value] : n.labels) labels[k] = value;
  return {{"id", n.id},
          {"organization_id", n.org_id},
          {"name", n.name},
          {"labels", std::move(labels)},
          {"status", v.status},
          {"schedulable", v.schedulable},
          {"cordoned", n.cordoned},
          {"draining", n.drain_started_at.has_value()},
          {"drain_deadline_at", common::rfc3339_or_null(n.drain_deadline_at)},
          {"hostname", n.hostname},
          {"os", n.os},
          {"arch", n.arch},
          {"cpu_count", n.cpu_count},
          {"memory_bytes", n.memory_bytes},
          {"disk_bytes", n.disk_bytes},
          {"agent_version", n.agent_version},
          {"drivers", json::value_from(n.drivers)},
          {"instance_count", v.instance_count},
          {"desired_version", n.desired_version},
          {"applied_version", n.applied_version},
          {"last_heartbeat_at", common::rfc3339_or_null(n.last_heartbeat_at)},
          {"metrics", metrics_json(n.metrics)},
          {"registered_at", common::rfc3339_from_unix(n.registered_at)},
          {"updated_at", common::rfc3339_from_unix(n.updated_at)}};
}

std::optional<std::map<std::string, std::string>> requested_labels(const json::object& body) {
  auto object = common::input::optional_object(body, "labels");
  if (!object) return std::nullopt;
  if (object->size() > 64) throw common::ApiError::validation("'labels': at most 64 labels");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : *object) {
    std::string field = "labels." + std::string(key);
    if (key.empty() || key.size() > 63) throw common::ApiError::validation("'" + field + "': 1 to 63 characters");
    if (!value.is_string() || value.as_string().size() > 255)
      throw common::ApiError::validation("'" + field + "': a string of at most 255 characters");
    out.emplace(key, value.as_string());
  }
  return out;
}

std::string node_id(const common::Request& req) { return std::string(req.param("id")); }

common::Response list_nodes(Nodes& nodes, common::Request& req) {
  json::array items;
  for (const auto& v : nodes.list(caller_of(req))) items.push_back(node_json(v));
  return list_page(req, std::move(items));
}

common::Response show_node(Nodes& nodes, common::Request& req) {
  return common::Response::json(node_json(nodes.find(caller_of(req), node_id(req))));
}

common::Response update_node(Nodes& nodes, common::Request& req) {
  auto body = req.json_object();
  auto name = common::input::optional_text(body, "name", {.min = 1, .max = 100});
  auto labels = requested_labels(body);
  return common::Response::json(node_json(nodes.update(caller_of(req), node_id(req), name, labels)));
}

common::Response delete_node(Nodes& nodes, common::Request& req) {
  nodes.remove(caller_of(req), node_id(req));
  return common::Response::empty(204);
}

common::Response create_register_token(Nodes& nodes, common::Request& req) {
  auto body = req.body.empty() ? json::object{} : req.json_object();
  auto name = common::input::optional_text(body, "name", {.min = 1, .max = 100});
  auto expires_in = common::input::optional_integer(body, "expires_in", 60, Nodes::kMaxRegisterTokenTtl);
  auto created = nodes.create_register_token(caller_of(req), name, expires_in);
  return common::Response::json(json::object{{"id", created.record.id},
                                             {"name", json::value_from(created.record.name)},
                                             {"token", created.token},
                                             {"command", created.command},
                                             {"created_at", common::rfc3339_from_unix(created.record.created_at)},
                                             {"expires_at", common::rfc3339_from_unix(created.record.expires_at)}},
                                201);
}

common::Response cordon_node(Nodes& nodes, common::Request& req) {
  return common::Response::json(node_json(nodes.cordon(caller_of(req), node_id(req))));
}

common::Response uncordon_node(Nodes& nodes, common::Request& req) {
  return common::Response::json(node_json(nodes.uncordon(caller_of(req), node_id(req))));
}

common::Response drain_node(Nodes& nodes, common::Request& req) {
  auto body = req.body.empty() ? json::object{} : req.json_object();
  auto deadline = common::input::optional_integer(body, "deadline_s", 1, Nodes::kMaxDrainS);
  auto result = nodes.drain(caller_of(req), node_id(req), deadline.value_or(Nodes::kDefaultDrainS));
  auto out = node_json(result.node);
  out["stopped_instances"] = json::value_from(result.outcome.stopped);
  out["migrated_instances"] = json::value_from(result.outcome.migrated);
  return common::Response::json(out);
}

common::Response node_metrics_history(Nodes& nodes, common::Request& req) {
  std::int64_t now = store::unix_now();
  auto from = common::input::query_timestamp(req, "from").value_or(now - 3600);
  auto to = common::input::query_timestamp(req, "to").value_or(now);
  if (from > to) throw common::ApiError::validation("'from' is after 'to'");
  json::array points;
  for (const auto& p : nodes.metrics_history(caller_of(req), node_id(req), from, to)) points.push_back(metrics_json(p));
  return common::Response::json(json::object{{"node_id", node_id(req)}, {"points", std::move(points)}});
}

// Power, resize and firewall act on servers Shardlyn provisioned at a cloud provider; until the
// provisioning of the operations issue exists, every node is one its agent registered.
common::Response provisioned_only(Nodes& nodes, common::Request& req) {
  nodes.find(caller_of(req), node_id(req));  // 404 for another organisation's node first
  throw common::ApiError(501,
                         "power, resize and firewall need a provisioned server: node provisioning (a cloud "
                         "provider) is not available yet, and this node was registered by its agent",
                         common::codes::kNotImplemented);
}

// An agent document of the protocol; a malformed one is 400 naming the field.
template <class T>
T agent_document(const common::Request& req, const char* document) {
  try {
    return agentproto::from_text<T>(req.body, document);
  } catch (const agentproto::ProtocolError& e) {
    throw common::ApiError::validation(e.what());
  }
}

common::Response agent_register(Agents& agents, common::Request& req) {
  auto registered = agents.register_node(agent_document<agentproto::RegisterRequest>(req, "register"));
  return common::Response::json(json::value_from(registered));
}

common::Response agent_heartbeat(Agents& agents, common::Request& req) {
  auto answer = agents.heartbeat(agent_of(req), agent_document<agentproto::Heartbeat>(req, "heartbeat"));
  return common::Response::json(json::value_from(answer));
}

common::Route agent_route(std::string path, std::string auth, common::Handler handler) {
  return {.method = "POST",
          .path = std::move(path),
          .auth = std::move(auth),
          .scope = std::string(scope_name(OrgScope::None)),
          .limit = "agent",
          .ip_limit = false,
          .fields = {"*"},
          .handler = std::move(handler),
          .offload = true};
}

}  // namespace

Routes node_routes(Nodes& nodes) {
  const Guard member{Auth::Member, OrgScope::Current};
  return group("/v1/nodes", member,
               {
                   get("", "nodes.read", bind(nodes, list_nodes), {.query = {"page", "per_page", "limit"}}),
                   get("/{id}", "nodes.read", bind(nodes, show_node)),
                   put("/{id}", "nodes.update", bind(nodes, update_node), {.fields = {"name", "labels"}}),
                   del("/{id}", "nodes.delete", bind(nodes, delete_node)),
                   post("/register-token", "nodes.create", bind(nodes, create_register_token),
                        {.fields = {"name", "expires_in"}}),
                   post("/{id}/cordon", "nodes.update", bind(nodes, cordon_node)),
                   post("/{id}/uncordon", "nodes.update", bind(nodes, uncordon_node)),
                   post("/{id}/drain", "nodes.update", bind(nodes, drain_node), {.fields = {"deadline_s"}}),
                   get("/{id}/metrics/history", "nodes.read", bind(nodes, node_metrics_history),
                       {.query = {"from", "to"}}),
                   post("/{id}/power/start", "nodes.power", bind(nodes, provisioned_only)),
                   post("/{id}/power/stop", "nodes.power", bind(nodes, provisioned_only)),
                   post("/{id}/power/reboot", "nodes.power", bind(nodes, provisioned_only)),
                   get("/{id}/power/status", "nodes.read", bind(nodes, provisioned_only)),
                   post("/{id}/resize", "nodes.power", bind(nodes, provisioned_only), {.fields = {"*"}}),
                   get("/{id}/firewall/rules", "nodes.read", bind(nodes, provisioned_only)),
                   post("/{id}/firewall/rules", "nodes.firewall", bind(nodes, provisioned_only), {.fields = {"*"}}),
                   del("/{id}/firewall/rules", "nodes.firewall", bind(nodes, provisioned_only)),
               });
}

Routes agent_node_routes(Agents& agents) {
  return {agent_route("/v1/agent/register", std::string(auth_name(Auth::Public)), bind(agents, agent_register)),
          agent_route("/v1/agent/heartbeat", std::string(kAgentAuth), bind(agents, agent_heartbeat))};
}

}  // namespace shardlyn
