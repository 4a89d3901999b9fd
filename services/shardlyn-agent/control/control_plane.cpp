#include "control/control_plane.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <random>

#include "agentproto/json.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/websocket_client.hpp"

namespace agent {

namespace {

constexpr std::chrono::seconds kLongPoll{30};
constexpr std::chrono::milliseconds kReconcileEvery{2000};
// While an instance starts, stops or installs: a done line or an exit is seen within this.
constexpr std::chrono::milliseconds kSettlingEvery{100};
constexpr std::chrono::milliseconds kBackoffInitial{500};
constexpr std::chrono::milliseconds kBackoffMax{30000};
constexpr std::size_t kMaxUnsentEvents = 1000;

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

agentproto::NodeMetrics protocol_metrics(const NodeSample& s) {
  agentproto::NodeMetrics m;
  m.cpu = {s.cpu_usage, s.cpu_cores};
  m.memory = {s.memory.total_bytes, s.memory.available_bytes, s.memory.used_bytes()};
  m.disk = {s.disk.path, s.disk.total_bytes, s.disk.free_bytes, s.disk.used_bytes()};
  m.network = {s.network.rx_bytes(), s.network.tx_bytes()};
  m.load = {s.load.one, s.load.five, s.load.fifteen};
  return m;
}

ControlPlane::ControlPlane(const Settings& settings, const std::filesystem::path& data_dir, NodeMetrics& node,
                           Reconciler& reconciler, common::metrics::Registry& metrics)
    : settings_(settings),
      data_dir_(data_dir),
      node_(node),
      reconciler_(reconciler),
      api_(settings.api_url, settings.api_ca_file),
      heartbeats_(metrics.counter("shardlyn_agent_heartbeats_total", "Heartbeats sent to the API, by result", {"result"})),
      polls_(metrics.counter("shardlyn_agent_desired_polls_total", "Desired-state polls, by result", {"result"})) {
  credentials_ = load_credentials(settings_.credentials);
  if (credentials_) api_.use_token(credentials_->agent_token);
  metrics.gauge_callback("shardlyn_agent_desired_version", "Version of the desired state the agent applies",
                         [this] { return double(reconciler_.applied_version()); });
  metrics.gauge_callback("shardlyn_agent_tunnel_connected", "1 while the tunnel to the API is open", [this] {
    std::lock_guard lock(mutex_);
    return tunnel_ && tunnel_->connected() ? 1.0 : 0.0;
  });
}

ControlPlane::~ControlPlane() { stop(); }

void ControlPlane::start() {
  common::log::info("control plane starting", {{"api", settings_.api_url}, {"registered", credentials_.has_value()}});
  heartbeat_ = std::jthread([this](std::stop_token s) { heartbeat_loop(s); });
  desired_ = std::jthread([this](std::stop_token s) { desired_loop(s); });
  reconcile_ = std::jthread([this](std::stop_token s) { reconcile_loop(s); });
  events_ = std::jthread([this](std::stop_token s) { events_loop(s); });
}

void ControlPlane::stop() {
  for (auto* t : {&heartbeat_, &desired_, &reconcile_, &events_}) t->request_stop();
  wake_.notify_all();
  for (auto* t : {&heartbeat_, &desired_, &reconcile_, &events_})
    if (t->joinable()) t->join();
  std::unique_ptr<Tunnel> tunnel;
  {
    std::lock_guard lock(mutex_);
    tunnel = std::move(tunnel_);
  }
  if (tunnel) tunnel->stop();
}

bool ControlPlane::pause(std::stop_token stop, std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, stop, d, [this] { return kicked_; });
  kicked_ = false;
  return !stop.stop_requested();
}

bool ControlPlane::sleep(std::stop_token stop, std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void ControlPlane::kick() {
  {
    std::lock_guard lock(mutex_);
    kicked_ = true;
  }
  wake_.notify_all();
}

std::chrono::milliseconds ControlPlane::backoff(unsigned attempt) const {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return common::WebSocketClient::backoff(attempt, kBackoffInitial, kBackoffMax,
                                          std::uniform_real_distribution<double>(0, 1)(random));
}

agentproto::RegisterRequest ControlPlane::register_request() const {
  utsname u{};
  ::uname(&u);
  auto sample = node_.current();
  return {settings_.register_token, u.nodename, u.sysname,  u.machine, sample.cpu_cores,
          sample.memory.total_bytes, sample.disk.total_bytes, AGENT_VERSION, {reconciler_.driver().name()}};
}

// Registers once (the register token is single-use) and starts the tunnel with the agent token.
bool ControlPlane::ensure_registered(std::stop_token stop) {
  for (unsigned attempt = 0; !credentials_; ++attempt) {
    try {
      auto resp = api_.register_node(register_request());
      Credentials c{resp.node_id, resp.agent_token};
      save_credentials(settings_.credentials, c);  // before use: a restart must not need the used token
      api_.use_token(c.agent_token);
      interval_s_ = resp.heartbeat_interval_s;
      std::lock_guard lock(mutex_);
      credentials_ = c;
      common::log::info("registered with the API", {{"node_id", c.node_id}});
    } catch (const std::exception& e) {
      common::log::warn("registration failed", {{"error", e.what()}, {"attempt", attempt + 1}});
      {
        std::lock_guard lock(mutex_);
        last_error_ = e.what();
      }
      if (!sleep(stop, backoff(attempt))) return false;
    }
  }
  std::lock_guard lock(mutex_);
  if (!tunnel_) {
    InventorySources inventory{settings_.proc_root, "/etc", data_dir_, [this] {
                                 boost::json::array out;
                                 for (const auto& r : reconciler_.report())
                                   out.push_back({{"id", r.id}, {"driver", reconciler_.driver().name()},
                                                  {"state", agentproto::to_string(r.state)}});
                                 return out;
                               }};
    tunnel_ = std::make_unique<Tunnel>(TunnelOptions{api_.tunnel_url(), credentials_->agent_token, settings_.api_ca_file},
                                       reconciler_, std::move(inventory));
    tunnel_->start();
  }
  wake_.notify_all();  // the desired-state loop waits for the credentials
  return true;
}

void ControlPlane::beat() {
  agentproto::Heartbeat hb{protocol_metrics(node_.current()), reconciler_.report(), reconciler_.applied_version()};
  auto resp = api_.heartbeat(hb);
  interval_s_ = resp.heartbeat_interval_s;
  last_heartbeat_unix_ = now_unix();
  events_due();  // what report() turned into events goes out now
}

void ControlPlane::events_due() {
  {
    std::lock_guard lock(mutex_);
    events_due_ = true;
  }
  wake_.notify_all();
}

bool ControlPlane::flush_events() {
  for (auto& e : reconciler_.take_events()) unsent_events_.push_back(std::move(e));
  if (unsent_events_.size() > kMaxUnsentEvents)  // an API away for long: keep the newest
    unsent_events_.erase(unsent_events_.begin(), unsent_events_.end() - static_cast<std::ptrdiff_t>(kMaxUnsentEvents));
  if (unsent_events_.empty()) return true;
  try {
    api_.send_events({unsent_events_});
    unsent_events_.clear();
    return true;
  } catch (const std::exception& e) {
    common::log::warn("events not delivered; kept for the next try", {{"error", e.what()}, {"events", unsent_events_.size()}});
    return false;
  }
}

void ControlPlane::events_loop(std::stop_token stop) {
  {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, stop, [this] { return credentials_.has_value(); });
  }
  unsigned failures = 0;
  while (!stop.stop_requested()) {
    failures = flush_events() ? 0 : failures + 1;
    std::unique_lock lock(mutex_);
    if (failures > 0) {
      wake_.wait_for(lock, stop, backoff(failures - 1), [] { return false; });
    } else {
      wake_.wait_for(lock, stop, std::chrono::seconds(1), [this] { return events_due_; });
    }
    events_due_ = false;
  }
  flush_events();  // the last ones, at shutdown
}

void ControlPlane::heartbeat_loop(std::stop_token stop) {
  if (!ensure_registered(stop)) return;
  unsigned failures = 0;
  while (!stop.stop_requested()) {
    std::chrono::milliseconds next = std::chrono::seconds(interval_s_.load());
    try {
      beat();
      heartbeats_.with({"ok"}).inc();
      failures = 0;
    } catch (const std::exception& e) {
      heartbeats_.with({"failed"}).inc();
      auto refused = dynamic_cast<const ApiError*>(&e) && static_cast<const ApiError&>(e).refused();
      common::log::warn(refused ? "heartbeat refused: the agent token is not accepted" : "heartbeat failed",
                        {{"error", e.what()}});
      std::lock_guard lock(mutex_);
      last_error_ = e.what();
      next = std::min(next, backoff(failures++));
    }
    sleep(stop, next);
  }
}

void ControlPlane::desired_loop(std::stop_token stop) {
  {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, stop, [this] { return credentials_.has_value(); });
  }
  unsigned failures = 0;
  while (!stop.stop_requested()) {
    try {
      auto desired = api_.desired(reconciler_.applied_version(), kLongPoll, [&stop] { return stop.stop_requested(); });
      polls_.with({desired ? "changed" : "unchanged"}).inc();
      failures = 0;
      if (desired) {
        common::log::info("desired state received", {{"version", desired->version}, {"instances", desired->instances.size()}});
        reconciler_.apply(std::move(*desired));
        kick();
      }
    } catch (const std::exception& e) {
      polls_.with({"failed"}).inc();
      common::log::warn("desired state poll failed", {{"error", e.what()}});
      if (!sleep(stop, backoff(failures++))) return;
    }
  }
}

void ControlPlane::reconcile_loop(std::stop_token stop) {
  do {
    try {
      reconciler_.reconcile();
    } catch (const std::exception& e) {
      common::log::warn("reconcile pass failed", {{"error", e.what()}});
    }
    if (reconciler_.has_events()) events_due();
  } while (pause(stop, reconciler_.settling() ? kSettlingEvery : kReconcileEvery));
}

boost::json::object ControlPlane::health() const {
  std::lock_guard lock(mutex_);
  boost::json::object o{{"api", settings_.api_url},
                        {"registered", credentials_.has_value()},
                        {"tunnel", tunnel_ && tunnel_->connected() ? "connected" : "disconnected"},
                        {"desired_version", reconciler_.applied_version()}};
  if (credentials_) o["node_id"] = credentials_->node_id;
  auto last = last_heartbeat_unix_.load();
  o["last_heartbeat_at"] = last ? boost::json::value(common::rfc3339_from_unix(last)) : boost::json::value(nullptr);
  if (!last_error_.empty()) o["last_error"] = last_error_;
  return o;
}

}  // namespace agent
