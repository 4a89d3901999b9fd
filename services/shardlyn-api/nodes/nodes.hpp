#pragma once
// The Node Endpoints' rules (Nodes) and the agent's side of them (Agents): one-time register
// tokens, registration, heartbeats, node status from heartbeat age, cordon and drain. Tokens are
// shown once and stored as HMAC-SHA256 digests. Every change a user makes is audited.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/access.hpp"
#include "nodes/node_rows.hpp"
#include "nodes/runtime_seams.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct NodeSettings {
  std::string agent_api_url;              // what a register token's command line points the agent at
  std::uint32_t heartbeat_interval_s = 10;
  std::int64_t unhealthy_after_s = 30;    // no heartbeat for longer: unhealthy
  std::int64_t offline_after_s = 300;     // no heartbeat for longer: offline
};

// A node as the API shows it: its row, and what follows from it now.
struct NodeView {
  NodeRecord node;
  std::string status;  // healthy | unhealthy | offline
  bool schedulable = false;
  std::size_t instance_count = 0;
};

struct RegisterToken {
  RegisterTokenRecord record;
  std::string token;    // shown once
  std::string command;  // the agent command line to paste on the machine
};

struct DrainResult {
  NodeView node;
  DrainOutcome outcome;
};

// healthy within unhealthy_after_s of the last heartbeat, unhealthy until offline_after_s,
// offline after that or before the first one.
std::string node_status(const NodeSettings& settings, std::optional<std::int64_t> last_heartbeat_at,
                        std::int64_t now);

class Nodes final : public NodeDirectory {
 public:
  static constexpr std::int64_t kRegisterTokenTtl = 3600;            // expires_in default
  static constexpr std::int64_t kMaxRegisterTokenTtl = 7 * 86400;    // and at most
  static constexpr std::int64_t kDefaultDrainS = 300;
  static constexpr std::int64_t kMaxDrainS = 86400;
  static constexpr std::size_t kMaxHistoryPoints = 5000;

  Nodes(store::Database& db, NodeSettings settings, NodeInstances& instances, DesiredVersions& versions,
        std::string token_key)
      : db_(db),
        settings_(std::move(settings)),
        instances_(instances),
        versions_(versions),
        token_key_(std::move(token_key)) {}

  std::vector<NodeView> list(const Caller& caller) const;
  NodeView find(const Caller& caller, std::string_view id) const;  // 404 when not the organisation's
  NodeView update(const Caller& caller, std::string_view id, std::optional<std::string> name,
                  std::optional<std::map<std::string, std::string>> labels);
  // 409 while the node holds instances; the agent's token stops working with its row.
  void remove(const Caller& caller, std::string_view id);
  RegisterToken create_register_token(const Caller& caller, std::optional<std::string> name,
                                      std::optional<std::int64_t> expires_in);
  NodeView cordon(const Caller& caller, std::string_view id);
  NodeView uncordon(const Caller& caller, std::string_view id);
  // Cordons the node and asks instances/ to move or stop what runs there by the deadline.
  DrainResult drain(const Caller& caller, std::string_view id, std::int64_t deadline_s);
  // Drains whose deadline passed: what is still stopping is killed, once per drain. How many.
  std::size_t enforce_drain_deadlines();
  // Points in [from, to], oldest first, at most kMaxHistoryPoints (404 for another organisation's node).
  std::vector<MetricsPoint> metrics_history(const Caller& caller, std::string_view id, std::int64_t from,
                                            std::int64_t to) const;
  // Raw points older than a day become 5-minute averages; those go after 30 days.
  void downsample_metrics();

  // NodeDirectory
  std::vector<NodeCapacity> nodes_of(const std::string& org_id) const override;
  std::optional<NodeCapacity> node(const std::string& org_id, const std::string& node_id) const override;

 private:
  NodeView view(store::Connection& c, NodeRecord node, std::int64_t now) const;
  NodeCapacity capacity(const NodeRecord& node, std::int64_t now) const;
  // Runs a change of one of the caller's nodes with its audit entry; 404 when there is none.
  NodeView change(const Caller& caller, std::string_view id, std::string_view action,
                  const std::function<bool(store::Connection&, std::int64_t)>& apply);

  store::Database& db_;
  NodeSettings settings_;
  NodeInstances& instances_;
  DesiredVersions& versions_;
  std::string token_key_;
};

// What the agent routes act through: registration with a one-time token, then the agent token
// (X-Agent-Token) for its own node only.
class Agents {
 public:
  Agents(store::Database& db, const NodeSettings& settings, NodeInstances& instances, DesiredVersions& versions,
         std::string token_key)
      : db_(db), settings_(settings), instances_(instances), versions_(versions), token_key_(std::move(token_key)) {}

  // The authenticator of kAgentAuth routes: X-Agent-Token -> request.principal (AgentCaller); 401 otherwise.
  void authenticate(common::Request& req) const;
  // Spends the register token (401 when unknown, used or expired) and creates the node.
  agentproto::RegisterResponse register_node(const agentproto::RegisterRequest& request);
  // Commits the heartbeat (answered only after its commit), then hands the instance reports on.
  agentproto::HeartbeatResponse heartbeat(const AgentCaller& agent, const agentproto::Heartbeat& heartbeat);

 private:
  store::Database& db_;
  const NodeSettings& settings_;
  NodeInstances& instances_;
  DesiredVersions& versions_;
  std::string token_key_;
};

}  // namespace shardlyn
