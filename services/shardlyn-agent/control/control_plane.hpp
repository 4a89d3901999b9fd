#pragma once
// The agent under the API's control: registration (once; the issued token is kept in
// DATA_DIR/credentials.json, 0600), the heartbeat loop, the desired-state long-poll, the
// reconcile loop and the tunnel. Each loop runs on its own thread and retries a failing API
// with exponential backoff and jitter; none of them ever stops a running instance.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include "common/metrics.hpp"
#include "control/api_client.hpp"
#include "control/tunnel.hpp"
#include "instances/reconciler.hpp"
#include "node/metrics.hpp"
#include "settings.hpp"

namespace agent {

// A heartbeat's node metrics in the protocol's shape.
agentproto::NodeMetrics protocol_metrics(const NodeSample& sample);

class ControlPlane {
 public:
  ControlPlane(const Settings& settings, const std::filesystem::path& data_dir, NodeMetrics& node,
               Reconciler& reconciler, common::metrics::Registry& metrics);
  ~ControlPlane();  // stop()
  void start();
  void stop();
  boost::json::object health() const;  // for /health

 private:
  void heartbeat_loop(std::stop_token stop);
  void desired_loop(std::stop_token stop);
  void reconcile_loop(std::stop_token stop);
  // Sends the reconciler's events as they happen (POST /v1/agent/events), not at the next
  // heartbeat; undelivered ones are kept (the newest kMaxUnsentEvents) and sent again.
  void events_loop(std::stop_token stop);
  bool flush_events();
  void events_due();
  bool ensure_registered(std::stop_token stop);
  void beat();
  agentproto::RegisterRequest register_request() const;
  // Sleeps up to `d`; false when stop() came meanwhile. pause() also wakes on kick() (the
  // reconcile loop: a new desired state is converged at once, not at the next tick).
  bool sleep(std::stop_token stop, std::chrono::milliseconds d);
  bool pause(std::stop_token stop, std::chrono::milliseconds d);
  void kick();
  std::chrono::milliseconds backoff(unsigned attempt) const;

  Settings settings_;
  std::filesystem::path data_dir_;
  NodeMetrics& node_;
  Reconciler& reconciler_;
  ApiClient api_;
  std::unique_ptr<Tunnel> tunnel_;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  bool kicked_ = false;
  std::optional<Credentials> credentials_;
  std::atomic<std::uint32_t> interval_s_{10};
  std::atomic<std::int64_t> last_heartbeat_unix_{0};
  std::string last_error_;
  bool events_due_ = false;
  std::vector<agentproto::InstanceEvent> unsent_events_;  // events thread only
  common::metrics::Family<common::metrics::Counter>& heartbeats_;
  common::metrics::Family<common::metrics::Counter>& polls_;
  std::jthread heartbeat_, desired_, reconcile_, events_;
};

}  // namespace agent
