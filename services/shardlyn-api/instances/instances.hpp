#pragma once
// Instance Endpoints' rules: instances of an organisation's workloads on its nodes, placed by
// bin-packing when no node is named; power actions as desired state (decision 0027), every
// state change recorded as a transition; what agents report (events, heartbeats) recorded;
// crash records, stats and their history. Implements the seams nodes/ and the tunnel ask of
// instances/ (NodeInstances, InstanceControl).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "agentproto/messages.hpp"
#include "http/access.hpp"
#include "nodes/runtime_seams.hpp"
#include "store/database.hpp"
#include "workload/placement.hpp"
#include "workload/spec.hpp"

namespace shardlyn {

struct Transition {
  std::optional<agentproto::InstanceState> from;
  agentproto::InstanceState to = agentproto::InstanceState::Stopped;
  std::string reason;
  std::string actor;  // "agent", or the user (or "token:<id>") that asked
  std::int64_t at = 0;
};

struct CrashRecord {
  std::optional<int> exit_code;
  bool oom_killed = false;
  std::string reason;
  std::vector<std::string> last_lines;
  std::int64_t at = 0;
};

struct InstanceRecord {
  std::string id;
  std::string org_id;
  std::string workload_id;
  std::string node_id;
  std::string name;
  std::map<std::string, std::string> variables;
  std::optional<boost::json::object> resources;  // spec.resources override of the workload's
  agentproto::InstanceState state = agentproto::InstanceState::Creating;
  std::string state_reason;
  std::int64_t state_at = 0;
  agentproto::PowerState desired = agentproto::PowerState::Stopped;
  std::uint64_t restart_generation = 0, kill_generation = 0;
  std::optional<int> exit_code;
  std::optional<agentproto::InstanceStats> stats;
  std::optional<std::int64_t> stats_at;
  std::vector<std::string> install_output;
  std::optional<bool> install_succeeded;
  std::string created_by;
  std::int64_t created_at = 0, updated_at = 0;
  std::vector<Transition> transitions;  // the last ones, newest first (get only)
  std::vector<CrashRecord> crashes;     // the last ones, newest first (get only)
};

struct NewInstance {
  std::string workload_id;
  std::string name;
  std::optional<std::string> node_id;
  std::map<std::string, std::string> variables;
  std::optional<boost::json::object> resources;  // spec.resources shape
};

struct InstanceChanges {
  std::optional<std::string> name;
  std::optional<std::map<std::string, std::string>> variables;
  std::optional<boost::json::object> resources;
};

struct MetricPoint {
  std::int64_t at = 0;
  double cpu_seconds = 0;
  std::optional<double> cpu_usage;  // cores busy since the previous point
  std::uint64_t memory_bytes = 0, pids = 0, rx_bytes = 0, tx_bytes = 0, uptime_ms = 0;
};

struct MetricsQuery {
  std::int64_t from = 0, to = 0;
  int resolution = 0;  // 0: raw, 300: 5-minute points
};

// What a batch of agent events did: recorded, or refused (another node's instance, a
// transition the state machine has not).
struct EventOutcome {
  std::size_t recorded = 0;
  std::vector<std::string> refused;  // "<instance id>: why"
};

class Instances : public NodeInstances, public InstanceControl {
 public:
  static constexpr std::size_t kShownTransitions = 20, kShownCrashes = 10, kCrashLines = 50;

  Instances(store::Database& db, DesiredVersions& versions, const NodeDirectory& nodes)
      : db_(db), versions_(versions), nodes_(nodes) {}

  std::vector<InstanceRecord> list(const Caller& caller, const std::optional<std::string>& node_id,
                                   const std::optional<std::string>& workload_id);
  InstanceRecord get(const Caller& caller, std::string_view id);
  InstanceRecord create(const Caller& caller, const NewInstance& request);
  InstanceRecord update(const Caller& caller, std::string_view id, const InstanceChanges& changes);
  // Desired deleted: the agent stops and removes it, then the row goes (202).
  InstanceRecord remove(const Caller& caller, std::string_view id);
  InstanceRecord act(const Caller& caller, std::string_view id, PowerAction action);
  std::vector<MetricPoint> history(const Caller& caller, std::string_view id, const MetricsQuery& query);
  // A workload changed: each of its instances must still resolve (409 naming the one that does
  // not), and their nodes get the new desired state. Runs inside the workload's transaction.
  void check_workload(store::Connection& db, const std::string& workload_id, const workload::Workload& changed,
                      DesiredBumps& bumps);
  // Deletes whose node has been offline for `offline_after_s`: the rows go now, and the agent,
  // whose desired state no longer lists them, removes them when it comes back. The ids forgotten.
  std::vector<std::string> forget_deletes_on_offline_nodes();

  // The agent routes. `version` is the node's desired version read before this call: a change
  // committed after it bumps the version past it, so the agent hears of it.
  agentproto::DesiredState desired(const std::string& node_id, std::uint64_t version);
  EventOutcome record(const std::string& node_id, const agentproto::EventBatch& batch);
  // Raw points older than 24 h become 5-minute points; 5-minute points go after 30 days.
  void compact_metrics(std::int64_t now);

  // NodeInstances
  bool observe(store::Connection& db, const std::string& node_id,
               const std::vector<agentproto::InstanceReport>& reports) override;
  DrainOutcome drain(store::Connection& db, const std::string& node_id,
                     std::chrono::system_clock::time_point deadline, DesiredBumps& bumps) override;
  std::vector<std::string> kill_stopping(store::Connection& db, const std::string& node_id,
                                         DesiredBumps& bumps) override;
  std::size_t count_on(store::Connection& db, const std::string& node_id) const override;
  // InstanceControl
  void on_state(InstanceStateListener listener) override { listeners_.push_back(std::move(listener)); }
  std::optional<InstanceRef> find(const std::string& org_id, const std::string& instance_id) const override;
  std::optional<InstanceRef> find_any(const std::string& instance_id) const override;
  void power(const std::string& org_id, const std::string& instance_id, PowerAction action,
             const std::string& actor, const audit::Actor* audited = nullptr) override;
  std::vector<InstanceRef> running_on(const std::string& node_id) const override;

 private:
  InstanceRecord apply_power(const std::string& org_id, std::string_view id, PowerAction action,
                             const std::string& actor, const audit::Actor* audited);
  std::string place(const Caller& caller, const std::optional<std::string>& node_id,
                    const workload::Capacity& request, store::Connection& db);
  // A write that changes what nodes run: body(db, bumps) bumps them inside the transaction, and
  // their long-polls hear of it once it committed.
  template <class F>
  auto write_bumping(F&& body) {
    DesiredBumps bumps(versions_);
    auto out = db_.write([&](store::Connection& db) { return body(db, bumps); });
    bumps.publish();
    return out;
  }

  // After a commit: each state it recorded, to every listener.
  void announce(const std::vector<std::pair<std::string, agentproto::InstanceState>>& states) const;

  store::Database& db_;
  DesiredVersions& versions_;
  const NodeDirectory& nodes_;
  std::vector<InstanceStateListener> listeners_;
};

}  // namespace shardlyn
