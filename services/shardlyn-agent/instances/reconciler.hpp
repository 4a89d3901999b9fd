#pragma once
// The level-triggered reconcile loop and the instance state machine on the node: the desired
// instances of the API against what the driver observes, converged by install, start, stop and
// remove. A pass looks only at the current picture (never at what changed), so a lost message
// heals at the next pass. On top of the driver it decides readiness (done line or health check,
// startup.timeout -> error), applies the restart policy after a crash, runs the install phase,
// writes config files before each start, applies the power generations (restart, kill), and
// reports every transition, crash, install result and stop step as an event.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agentproto/messages.hpp"
#include "instances/journal.hpp"
#include "instances/readiness.hpp"
#include "instances/restart_policy.hpp"
#include "runtime/driver.hpp"

namespace agent {

// agentproto's resolved workload as the runtime's record (signal names to numbers).
Workload runtime_workload(const std::string& instance_id, const agentproto::ResolvedWorkload& resolved);
// The install phase's run: the install script in its image (docker; the instance root at
// /mnt/server) or on the node (process; the instance root as working directory).
Workload install_workload(const std::string& instance_id, const agentproto::ResolvedWorkload& resolved);
// "SIGTERM" -> 15; throws RuntimeError for a name this node does not know.
int signal_number(const std::string& name);

class Reconciler {
 public:
  // `recovered`: what the driver found running at start; reattached, never restarted.
  // `data_dir`: instance roots in instances/<id>/, the journal in journal/.
  Reconciler(RuntimeDriver& driver, std::vector<InstanceHandle> recovered, const std::filesystem::path& data_dir);
  ~Reconciler();  // finish_stops()
  // Waits for the stop sequences in flight (at shutdown, before the driver goes).
  void finish_stops();
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // The whole desired document replaces the previous one (an older version is ignored).
  void apply(agentproto::DesiredState desired);
  // One pass. Until the first document arrives nothing is touched: instances found at start
  // keep running whatever happens to the API.
  void reconcile();

  std::uint64_t applied_version() const;
  // What the heartbeat carries: every instance the agent knows, desired or found (a state not
  // yet recorded becomes a transition event here, so events never lag the reported state).
  std::vector<agentproto::InstanceReport> report();
  // State changes seen since the last call (transitions, crashes, install results, stop
  // steps), for POST /v1/agent/events.
  std::vector<agentproto::InstanceEvent> take_events();
  bool has_events() const;
  // An instance is starting, stopping or installing: the next pass should come soon.
  bool settling() const;
  // The runtime handle of an instance the agent runs (console and logs channels).
  std::optional<InstanceHandle> handle(const std::string& instance_id) const;
  // Whether the instance's current run is its install script (its output is install output).
  bool installing(const std::string& instance_id) const;
  // Every instance with runtime objects on the node.
  std::vector<InstanceHandle> handles() const;
  RuntimeDriver& driver() { return driver_; }

 private:
  // Stop steps as the stop thread takes them, drained into events by the reconciler.
  struct StepLog {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> steps;  // {at, step}
  };
  struct Entry {
    std::optional<InstanceHandle> handle;
    std::optional<std::future<void>> stopping;  // a stop sequence in flight
    std::shared_ptr<StepLog> steps = std::make_shared<StepLog>();
    std::string error;                          // the last start failure
    std::chrono::steady_clock::time_point retry_at{};
    unsigned failures = 0;
    std::optional<agentproto::InstanceState> last_state;
    bool loaded = false;  // record read from the journal (or adopted from the first desired state)
    InstanceRecord record;
    std::unique_ptr<ReadinessWatch> watch;
    std::optional<agentproto::PowerState> seen_power;
    bool start_asked = false;  // a restart generation or power back on: start even after a crash
    std::string next_reason;   // the reason of the next recorded transition
    std::optional<ExitStatus> crash;  // the exit a crash record is about
  };
  void converge(const std::string& id, const agentproto::DesiredInstance* desired, Entry& entry);
  void load(const std::string& id, const agentproto::DesiredInstance* desired, Entry& entry);
  void track_power(const std::string& id, agentproto::PowerState power, Entry& entry);
  bool apply_kill(const std::string& id, const agentproto::DesiredInstance& d, Entry& e, const Observed& observed);
  bool apply_generations(const std::string& id, const agentproto::DesiredInstance& desired, Entry& entry,
                         const Observed& observed);
  void run_wanted(const agentproto::DesiredInstance& desired, Entry& entry, const Observed& observed);
  void remember_ready(const std::string& id, Entry& entry, const Observed& observed);
  void watch_startup(const agentproto::DesiredInstance& desired, Entry& entry, const Observed& observed);
  void on_crash(const agentproto::DesiredInstance& desired, Entry& entry, const Observed& observed);
  void begin_install(const agentproto::DesiredInstance& desired, Entry& entry);
  void finish_install(const agentproto::DesiredInstance& desired, Entry& entry, const Observed& observed);
  void start(const agentproto::DesiredInstance& desired, Entry& entry);
  void start_failed(const std::string& id, Entry& entry, const char* what, const std::string& why);
  void begin_stop(const std::string& id, Entry& entry, const StopPolicy& policy);
  void hold(const std::string& id, Entry& entry, const std::string& kind, const std::string& reason);
  void save(const std::string& id, const Entry& entry) const { journal_.save(id, entry.record); }
  bool ready(const Entry& entry, const Observed& observed) const;
  agentproto::InstanceState state_of(const std::string& id, const Entry& entry, const Observed& observed) const;
  void note(const std::string& id, Entry& entry, agentproto::InstanceState state, const Observed& observed);
  void drain_steps(const std::string& id, Entry& entry);
  const agentproto::DesiredInstance* desired_of(const std::string& id) const;
  std::filesystem::path root(const std::string& id) const { return instances_ / id; }

  RuntimeDriver& driver_;
  std::filesystem::path instances_;
  Journal journal_;
  mutable std::mutex mutex_;
  std::optional<agentproto::DesiredState> desired_;
  std::map<std::string, Entry> entries_;
  std::vector<agentproto::InstanceEvent> events_;
};

}  // namespace agent
