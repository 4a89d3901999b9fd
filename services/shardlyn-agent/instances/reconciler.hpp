#pragma once
// The level-triggered reconcile loop: the desired instances of the API against what the
// driver observes, converged by start, stop and remove. A pass looks only at the current
// picture (never at what changed), so a lost message heals at the next pass.
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agentproto/messages.hpp"
#include "runtime/driver.hpp"

namespace agent {

// agentproto's resolved workload as the runtime's record (signal names to numbers).
Workload runtime_workload(const std::string& instance_id, const agentproto::ResolvedWorkload& resolved);
// "SIGTERM" -> 15; throws RuntimeError for a name this node does not know.
int signal_number(const std::string& name);

class Reconciler {
 public:
  // `recovered`: what the driver found running at start; reattached, never restarted.
  Reconciler(RuntimeDriver& driver, std::vector<InstanceHandle> recovered);
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
  // What the heartbeat carries: every instance the agent knows, desired or found.
  std::vector<agentproto::InstanceReport> report();
  // State changes seen since the last call (transitions and crashes), for POST /v1/agent/events.
  std::vector<agentproto::InstanceEvent> take_events();
  // The runtime handle of an instance the agent runs (console and logs channels).
  std::optional<InstanceHandle> handle(const std::string& instance_id) const;
  // Every instance with runtime objects on the node.
  std::vector<InstanceHandle> handles() const;
  RuntimeDriver& driver() { return driver_; }

 private:
  struct Entry {
    std::optional<InstanceHandle> handle;
    std::optional<std::future<void>> stopping;  // a stop sequence in flight
    std::string error;                          // the last start failure
    std::chrono::steady_clock::time_point retry_at{};
    unsigned failures = 0;
    std::optional<agentproto::InstanceState> last_state;
  };
  void converge(const std::string& id, const agentproto::DesiredInstance* desired, Entry& entry);
  void start(const agentproto::DesiredInstance& desired, Entry& entry);
  void begin_stop(const std::string& id, Entry& entry, const StopPolicy& policy);
  agentproto::InstanceState state_of(const std::string& id, Entry& entry, const Observed& observed) const;
  void note(const std::string& id, Entry& entry, agentproto::InstanceState state, const Observed& observed);
  const agentproto::DesiredInstance* desired_of(const std::string& id) const;

  RuntimeDriver& driver_;
  mutable std::mutex mutex_;
  std::optional<agentproto::DesiredState> desired_;
  std::map<std::string, Entry> entries_;
  std::vector<agentproto::InstanceEvent> events_;
};

}  // namespace agent
