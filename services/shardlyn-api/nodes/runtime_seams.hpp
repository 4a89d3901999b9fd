#pragma once
// The seams between the runtime areas of shardlyn-api (decision 0027): what nodes/ offers the
// areas built on it (the agent's identity on a request, per-node desired-state versions with
// their long-poll, the schedulable nodes) and what it asks of instances/ (the instance reports
// of a heartbeat, a drain, the instances a node holds) and what instances/ offers the tunnel
// (an instance's node, its power actions). nodes/ implements AgentCaller lookup,
// DesiredVersions and NodeDirectory; instances/ implements NodeInstances and InstanceControl;
// main.cpp wires them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agentproto/messages.hpp"

namespace common {
struct Request;
}
namespace store {
class Connection;
}
namespace shardlyn::audit {
struct Actor;
}

namespace shardlyn {

// The authenticator agent routes declare (Route::auth): `X-Agent-Token`, checked against the
// node's stored digest. A user token on an agent route, or an agent token on a user route, is 401.
inline constexpr std::string_view kAgentAuth = "agent";

// The node an agent route acts for, set as request.principal by the agent authenticator.
struct AgentCaller {
  std::string node_id;
  std::string org_id;
};
const AgentCaller& agent_of(const common::Request& request);

// Per-node desired-state versions. A version only grows; every change to what a node should
// run (an instance created, started, stopped, deleted, its workload changed) bumps it inside the
// change's own transaction, so the change and its version commit together or not at all, and
// publishes it after the commit, which wakes that node's long-polls. Thread-safe.
class DesiredVersions {
 public:
  virtual ~DesiredVersions() = default;
  // Inside the caller's write transaction: the node's next version (persisted: versions survive
  // an API restart and never go back). Throws common::ApiError 404 when the node is gone.
  virtual std::uint64_t bump(store::Connection& db, const std::string& node_id) = 0;
  // After that transaction committed: the version becomes current and the node's waits answer.
  virtual void publish(const std::string& node_id, std::uint64_t version) = 0;
  virtual std::uint64_t current(const std::string& node_id) const = 0;
  // Calls `ready(version)` exactly once, from any thread: as soon as the node's version is
  // above `since`, else with the current version once `wait` has passed, or at shutdown.
  virtual void wait(const std::string& node_id, std::uint64_t since, std::chrono::milliseconds wait,
                    std::function<void(std::uint64_t)> ready) = 0;
};

// The nodes one write transaction changed: each bumped once inside it, all published after it.
class DesiredBumps {
 public:
  explicit DesiredBumps(DesiredVersions& versions) : versions_(versions) {}
  void bump(store::Connection& db, const std::string& node_id) {
    for (const auto& b : bumped_)
      if (b.first == node_id) return;
    bumped_.emplace_back(node_id, versions_.bump(db, node_id));
  }
  // Call once the transaction committed.
  void publish() {
    for (const auto& [node_id, version] : bumped_) versions_.publish(node_id, version);
    bumped_.clear();
  }

 private:
  DesiredVersions& versions_;
  std::vector<std::pair<std::string, std::uint64_t>> bumped_;
};

// A node as placement sees it.
struct NodeCapacity {
  std::string node_id;
  std::string name;
  bool schedulable = false;  // healthy, not cordoned, not draining
  std::string status;        // healthy | unhealthy | offline
  std::uint32_t cpu_count = 0;
  std::uint64_t memory_bytes = 0, disk_bytes = 0;
  std::vector<std::string> drivers;  // "process", "docker"
};

class NodeDirectory {
 public:
  virtual ~NodeDirectory() = default;
  // Every node of the organisation, schedulable or not (placement says why none fits).
  virtual std::vector<NodeCapacity> nodes_of(const std::string& org_id) const = 0;
  // One node of the organisation; nullopt when there is none (another organisation's: none).
  virtual std::optional<NodeCapacity> node(const std::string& org_id, const std::string& node_id) const = 0;
};

// What a drain asks of the instances on a node.
struct DrainOutcome {
  std::vector<std::string> stopped;   // instance ids set to stopped (nothing can move them yet)
  std::vector<std::string> migrated;  // moved elsewhere (with the migrations of the data plane)
};

class NodeInstances {
 public:
  virtual ~NodeInstances() = default;
  // The instance states and stats one heartbeat of the node reported, recorded inside the
  // heartbeat's own transaction (one commit per heartbeat). True when what the node should run
  // changed (an instance it no longer reports is gone): the caller bumps the node's desired
  // version after the commit.
  virtual bool observe(store::Connection& db, const std::string& node_id,
                       const std::vector<agentproto::InstanceReport>& reports) = 0;
  // Inside the drain's transaction: moves what can move and stops the rest, by `deadline` (the
  // agent's stop sequence).
  virtual DrainOutcome drain(store::Connection& db, const std::string& node_id,
                             std::chrono::system_clock::time_point deadline, DesiredBumps& bumps) = 0;
  // The drain's deadline passed: what is still stopping gets killed. The ids killed.
  virtual std::vector<std::string> kill_stopping(store::Connection& db, const std::string& node_id,
                                                 DesiredBumps& bumps) = 0;
  // How many instances the node holds (a node with instances is not deleted: 409).
  virtual std::size_t count_on(store::Connection& db, const std::string& node_id) const = 0;
};

// What the console and logs WebSockets (tunnel/) ask of instances/.
enum class PowerAction { Start, Stop, Restart, Kill };

struct InstanceRef {
  std::string instance_id;
  std::string org_id;
  std::string node_id;
  std::string state;  // the spec's instance state
  std::optional<agentproto::InstanceStats> stats;  // the last a heartbeat reported
  std::int64_t stats_at = 0;                       // unix seconds; 0: none yet
};

// A state an instance took, called after the commit that recorded it, in the order recorded
// (a user's power action, the agent's events): the console's `status` frames follow every step
// of a restart however fast it goes.
using InstanceStateListener = std::function<void(const std::string& instance_id, const std::string& state)>;

class InstanceControl {
 public:
  virtual ~InstanceControl() = default;
  // Registered before requests are served; called from the thread that committed.
  virtual void on_state(InstanceStateListener listener) = 0;
  // The instance of the organisation; nullopt when there is none (another organisation's: none).
  virtual std::optional<InstanceRef> find(const std::string& org_id, const std::string& instance_id) const = 0;
  // Any organisation's instance (platform administration); nullopt when there is none.
  virtual std::optional<InstanceRef> find_any(const std::string& instance_id) const = 0;
  // The power action of POST /v1/instances/{id}/start|stop|restart|kill: idempotent, coalescing;
  // throws common::ApiError (404, 409) as the route would answer. `actor` names the caller in
  // the recorded transition; `audited`, when given, is the audit trail's actor (as the route's).
  virtual void power(const std::string& org_id, const std::string& instance_id, PowerAction action,
                     const std::string& actor, const audit::Actor* audited = nullptr) = 0;
  // The instances on the node that should run (desired power running): their consoles are
  // recorded while the node's tunnel is up.
  virtual std::vector<InstanceRef> running_on(const std::string& node_id) const = 0;
};

}  // namespace shardlyn
