#include "nodes/nodes.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "common/http.hpp"
#include "common/log.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

constexpr std::string_view kNodeNotFound = "node not found";

void audit_node(store::Connection& db, const Caller& caller, std::string_view action, std::string_view id) {
  audit::record(db, action, caller.actor(), caller.org_id, {}, {{"node_id", id}});
}

}  // namespace

std::string node_status(const NodeSettings& settings, std::optional<std::int64_t> last_heartbeat_at,
                        std::int64_t now) {
  if (!last_heartbeat_at) return "offline";
  std::int64_t age = now - *last_heartbeat_at;
  if (age <= settings.unhealthy_after_s) return "healthy";
  if (age <= settings.offline_after_s) return "unhealthy";
  return "offline";
}

const AgentCaller& agent_of(const common::Request& request) {
  const auto* agent = std::any_cast<AgentCaller>(&request.principal);
  if (agent == nullptr) throw common::ApiError::unauthorized();
  return *agent;
}

// --- Nodes ---------------------------------------------------------------------------------

NodeView Nodes::view(store::Connection& c, NodeRecord node, std::int64_t now) const {
  NodeView out;
  out.status = node_status(settings_, node.last_heartbeat_at, now);
  out.schedulable = out.status == "healthy" && !node.cordoned && !node.drain_started_at;
  out.instance_count = instances_.count_on(c, node.id);
  out.node = std::move(node);
  return out;
}

NodeCapacity Nodes::capacity(const NodeRecord& node, std::int64_t now) const {
  auto status = node_status(settings_, node.last_heartbeat_at, now);
  return {.node_id = node.id,
          .name = node.name,
          .schedulable = status == "healthy" && !node.cordoned && !node.drain_started_at,
          .status = status,
          .cpu_count = node.cpu_count,
          .memory_bytes = node.memory_bytes,
          .disk_bytes = node.disk_bytes,
          .drivers = node.drivers};
}

std::vector<NodeView> Nodes::list(const Caller& caller) const {
  std::int64_t now = store::unix_now();
  return db_.read([&](store::Connection& c) {
    std::vector<NodeView> out;
    for (auto& row : node_rows::list(c, caller.org_id)) out.push_back(view(c, std::move(row), now));
    return out;
  });
}

NodeView Nodes::find(const Caller& caller, std::string_view id) const {
  auto found = db_.read([&](store::Connection& c) -> std::optional<NodeView> {
    auto row = node_rows::find(c, caller.org_id, id);
    if (!row) return std::nullopt;
    return view(c, std::move(*row), store::unix_now());
  });
  if (!found) throw common::ApiError::not_found(std::string(kNodeNotFound));
  return std::move(*found);
}

NodeView Nodes::change(const Caller& caller, std::string_view id, std::string_view action,
                       const std::function<bool(store::Connection&, std::int64_t)>& apply) {
  std::int64_t now = store::unix_now();
  auto changed = db_.write([&](store::Connection& c) -> std::optional<NodeView> {
    if (!apply(c, now)) return std::nullopt;
    audit_node(c, caller, action, id);
    return view(c, *node_rows::find(c, caller.org_id, id), now);
  });
  if (!changed) throw common::ApiError::not_found(std::string(kNodeNotFound));
  return std::move(*changed);
}

NodeView Nodes::update(const Caller& caller, std::string_view id, std::optional<std::string> name,
                       std::optional<std::map<std::string, std::string>> labels) {
  return change(caller, id, "node.update", [&](store::Connection& c, std::int64_t now) {
    auto current = node_rows::find(c, caller.org_id, id);
    if (!current) return false;
    return node_rows::rename(c, caller.org_id, id, name.value_or(current->name), labels.value_or(current->labels),
                             now);
  });
}

void Nodes::remove(const Caller& caller, std::string_view id) {
  // The count and the delete in one transaction: an instance placed meanwhile cannot be orphaned.
  bool removed = db_.write([&](store::Connection& c) {
    if (!node_rows::find(c, caller.org_id, id)) return false;
    if (instances_.count_on(c, std::string(id)) > 0)
      throw common::ApiError::conflict("the node holds instances: delete or move them first");
    if (!node_rows::remove(c, caller.org_id, id)) return false;
    audit_node(c, caller, "node.delete", id);
    return true;
  });
  if (!removed) throw common::ApiError::not_found(std::string(kNodeNotFound));
}

RegisterToken Nodes::create_register_token(const Caller& caller, std::optional<std::string> name,
                                           std::optional<std::int64_t> expires_in) {
  std::int64_t now = store::unix_now();
  RegisterToken out;
  out.record = {.id = security::uuid_v4(),
                .org_id = caller.org_id,
                .name = std::move(name),
                .created_at = now,
                .expires_at = now + std::clamp<std::int64_t>(expires_in.value_or(kRegisterTokenTtl), 1,
                                                             kMaxRegisterTokenTtl)};
  out.token = "snr_" + security::random_token(32);
  db_.write([&](store::Connection& c) {
    node_rows::insert_register_token(c, out.record, security::hmac_sha256_hex(token_key_, out.token),
                                     caller.user_id);
    audit::record(c, "node.register_token.create", caller.actor(), caller.org_id, {},
                  {{"register_token_id", out.record.id}});
  });
  out.command = "SHARDLYN_API_URL=" + settings_.agent_api_url + " SHARDLYN_REGISTER_TOKEN=" + out.token +
                " shardlyn-agent";
  return out;
}

NodeView Nodes::cordon(const Caller& caller, std::string_view id) {
  return change(caller, id, "node.cordon", [&](store::Connection& c, std::int64_t now) {
    return node_rows::set_cordon(c, caller.org_id, id, true, now);
  });
}

NodeView Nodes::uncordon(const Caller& caller, std::string_view id) {
  return change(caller, id, "node.uncordon", [&](store::Connection& c, std::int64_t now) {
    return node_rows::set_cordon(c, caller.org_id, id, false, now);
  });
}

DrainResult Nodes::drain(const Caller& caller, std::string_view id, std::int64_t deadline_s) {
  DrainOutcome outcome;
  DesiredBumps bumps(versions_);
  auto node = change(caller, id, "node.drain", [&](store::Connection& c, std::int64_t now) {
    if (!node_rows::start_drain(c, caller.org_id, id, now + deadline_s, now)) return false;
    auto deadline = std::chrono::system_clock::time_point(std::chrono::seconds(now + deadline_s));
    outcome = instances_.drain(c, std::string(id), deadline, bumps);
    return true;
  });
  bumps.publish();
  return {std::move(node), std::move(outcome)};
}

std::size_t Nodes::enforce_drain_deadlines() {
  DesiredBumps bumps(versions_);
  std::int64_t now = store::unix_now();
  auto killed = db_.write([&](store::Connection& c) {
    std::size_t n = 0;
    for (const auto& node_id : node_rows::drains_past_deadline(c, now)) {
      auto ids = instances_.kill_stopping(c, node_id, bumps);
      for (const auto& i : ids)
        common::log::info("drain deadline passed: killing", {{"node_id", node_id}, {"instance_id", i}});
      n += ids.size();
      node_rows::drain_enforced(c, node_id, now);
    }
    return n;
  });
  bumps.publish();
  return killed;
}

std::vector<MetricsPoint> Nodes::metrics_history(const Caller& caller, std::string_view id, std::int64_t from,
                                                 std::int64_t to) const {
  find(caller, id);
  return db_.read([&](store::Connection& c) { return node_rows::metrics(c, id, from, to, kMaxHistoryPoints); });
}

void Nodes::downsample_metrics() {
  std::int64_t now = store::unix_now();
  db_.write([&](store::Connection& c) { node_rows::downsample(c, now - 86400, now - 30 * 86400); });
}

std::vector<NodeCapacity> Nodes::nodes_of(const std::string& org_id) const {
  auto rows = db_.read([&](store::Connection& c) { return node_rows::list(c, org_id); });
  std::int64_t now = store::unix_now();
  std::vector<NodeCapacity> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(capacity(row, now));
  return out;
}

std::optional<NodeCapacity> Nodes::node(const std::string& org_id, const std::string& node_id) const {
  auto row = db_.read([&](store::Connection& c) { return node_rows::find(c, org_id, node_id); });
  if (!row) return std::nullopt;
  return capacity(*row, store::unix_now());
}

// --- Agents --------------------------------------------------------------------------------

void Agents::authenticate(common::Request& req) const {
  auto token = req.headers.get("X-Agent-Token");
  if (!token || token->empty()) throw common::ApiError::unauthorized("missing or invalid agent token");
  std::string digest = security::hmac_sha256_hex(token_key_, *token);
  auto identity = db_.read([&](store::Connection& c) { return node_rows::by_agent_token(c, digest); });
  if (!identity) throw common::ApiError::unauthorized("missing or invalid agent token");
  req.principal = AgentCaller{identity->node_id, identity->org_id};
  req.rate_key = "agent:" + identity->node_id;
}

agentproto::RegisterResponse Agents::register_node(const agentproto::RegisterRequest& request) {
  std::int64_t now = store::unix_now();
  NodeRecord node{.id = security::uuid_v4(),
                  .hostname = request.hostname,
                  .os = request.os,
                  .arch = request.arch,
                  .cpu_count = request.cpu_count,
                  .memory_bytes = request.memory_bytes,
                  .disk_bytes = request.disk_bytes,
                  .agent_version = request.agent_version,
                  .drivers = request.drivers,
                  .registered_at = now,
                  .updated_at = now};
  std::string agent_token = "sna_" + security::random_token(32);
  bool registered = db_.write([&](store::Connection& c) {
    auto spent = node_rows::spend_register_token(c, security::hmac_sha256_hex(token_key_, request.token), node.id,
                                                 now);
    if (!spent) return false;
    node.org_id = spent->org_id;
    node.name = spent->name.value_or(request.hostname);
    node_rows::insert(c, node, security::hmac_sha256_hex(token_key_, agent_token));
    audit::record(c, "node.register", audit::Actor{}, node.org_id, {},
                  {{"node_id", node.id}, {"register_token_id", spent->id}});
    return true;
  });
  if (!registered) throw common::ApiError::unauthorized("register token unknown, used or expired");
  return {node.id, agent_token, settings_.heartbeat_interval_s};
}

agentproto::HeartbeatResponse Agents::heartbeat(const AgentCaller& agent, const agentproto::Heartbeat& heartbeat) {
  DesiredBumps bumps(versions_);
  db_.write([&](store::Connection& c) {
    node_rows::heartbeat(c, agent.node_id, heartbeat, store::unix_now());
    if (instances_.observe(c, agent.node_id, heartbeat.instances)) bumps.bump(c, agent.node_id);
  });
  bumps.publish();
  return {versions_.current(agent.node_id), settings_.heartbeat_interval_s};
}

}  // namespace shardlyn
