#include "instances/reconciler.hpp"

#include <algorithm>
#include <csignal>
#include <utility>

#include "common/clock.hpp"
#include "common/log.hpp"

namespace agent {

using agentproto::InstanceState;
using agentproto::PowerState;

namespace {

constexpr std::chrono::milliseconds kKillAfter{10000};
constexpr std::size_t kCrashLines = 50;

std::chrono::milliseconds retry_delay(unsigned failures) {
  auto d = std::chrono::milliseconds(1000) * (1u << std::min(failures, 6u));
  return std::min(d, std::chrono::milliseconds(60000));
}

StopPolicy stop_policy(const agentproto::StopSpec& stop) {
  return {stop.command, signal_number(stop.signal), std::chrono::milliseconds(stop.timeout_ms), kKillAfter};
}

// Stop sequences that outlast this bound keep going in the supervisor (process) or are
// re-issued by the next pass (docker).
std::chrono::milliseconds stop_deadline(const StopPolicy& p) { return p.timeout + p.kill_after + std::chrono::seconds(5); }

}  // namespace

int signal_number(const std::string& name) {
  static const std::map<std::string, int> known = {
      {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGABRT", SIGABRT},
      {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGTERM", SIGTERM},
      {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP}, {"SIGWINCH", SIGWINCH}};
  auto it = known.find(name);
  if (it == known.end()) throw RuntimeError("stop.signal: unknown signal " + name);
  return it->second;
}

Workload runtime_workload(const std::string& instance_id, const agentproto::ResolvedWorkload& r) {
  Workload w;
  w.instance_id = instance_id;
  w.image = r.image;
  w.command = r.command;
  w.args = r.args;
  w.env = r.env;
  w.working_dir = r.working_dir;
  w.limits = {r.limits.cpu, r.limits.memory_bytes, r.limits.pids, r.limits.open_files};
  w.stop = stop_policy(r.stop);
  w.read_only_root = r.read_only_root;
  return w;
}

Reconciler::Reconciler(RuntimeDriver& driver, std::vector<InstanceHandle> recovered) : driver_(driver) {
  for (auto& h : recovered) entries_[h.instance_id].handle = std::move(h);
}

Reconciler::~Reconciler() { finish_stops(); }

void Reconciler::finish_stops() {
  std::lock_guard lock(mutex_);
  for (auto& [id, e] : entries_)
    if (e.stopping) e.stopping->wait();
}

void Reconciler::apply(agentproto::DesiredState desired) {
  std::lock_guard lock(mutex_);
  if (desired_ && desired.version < desired_->version) return;
  desired_ = std::move(desired);
}

std::uint64_t Reconciler::applied_version() const {
  std::lock_guard lock(mutex_);
  return desired_ ? desired_->version : 0;
}

const agentproto::DesiredInstance* Reconciler::desired_of(const std::string& id) const {
  if (!desired_) return nullptr;
  for (const auto& d : desired_->instances)
    if (d.id == id) return &d;
  return nullptr;
}

void Reconciler::reconcile() {
  std::lock_guard lock(mutex_);
  if (!desired_) return;
  for (const auto& d : desired_->instances) entries_.try_emplace(d.id);
  for (auto it = entries_.begin(); it != entries_.end();) {
    converge(it->first, desired_of(it->first), it->second);
    // Deleted (or no longer desired) and nothing left on the node: forget it.
    bool gone = !it->second.handle && !it->second.stopping;
    auto* d = desired_of(it->first);
    if (gone && (!d || d->power == PowerState::Deleted)) it = entries_.erase(it);
    else ++it;
  }
}

void Reconciler::converge(const std::string& id, const agentproto::DesiredInstance* desired, Entry& e) {
  if (e.stopping) {
    if (e.stopping->wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    e.stopping.reset();
  }
  Observed observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
  auto power = desired ? desired->power : PowerState::Deleted;  // not desired = not wanted here
  bool alive = observed.state == RunState::Running || observed.state == RunState::Created;
  if (power == PowerState::Running) {
    if (!alive && observed.state != RunState::Exited) start(*desired, e);
    // An exit the agent did not ask for is a crash; restarting is the restart policy's call.
    else if (observed.state == RunState::Exited && observed.exit && observed.exit->stop_requested) start(*desired, e);
  } else if (alive) {
    begin_stop(id, e, desired ? stop_policy(desired->workload.stop) : StopPolicy{});
  } else if (power == PowerState::Deleted && e.handle) {
    try {
      driver_.remove(*e.handle);
      common::log::info("instance removed", {{"instance", id}});
    } catch (const RuntimeError& ex) {
      common::log::warn("instance not removed", {{"instance", id}, {"error", ex.what()}});
    }
    e.handle.reset();
  }
  observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
  note(id, e, state_of(id, e, observed), observed);
}

void Reconciler::start(const agentproto::DesiredInstance& desired, Entry& e) {
  if (std::chrono::steady_clock::now() < e.retry_at) return;
  try {
    if (e.handle) driver_.remove(*e.handle);
    e.handle.reset();
    e.handle = driver_.start(runtime_workload(desired.id, desired.workload));
    e.error.clear();
    e.failures = 0;
    common::log::info("instance started", {{"instance", desired.id}, {"driver", driver_.name()}});
  } catch (const std::exception& ex) {
    e.error = ex.what();
    e.retry_at = std::chrono::steady_clock::now() + retry_delay(e.failures++);
    common::log::warn("instance did not start", {{"instance", desired.id}, {"error", e.error}});
  }
}

void Reconciler::begin_stop(const std::string& id, Entry& e, const StopPolicy& policy) {
  common::log::info("instance stopping", {{"instance", id}});
  auto handle = *e.handle;
  e.stopping = std::async(std::launch::async, [this, handle, policy] {
    try {
      driver_.stop(handle, policy, stop_deadline(policy));
    } catch (const std::exception& ex) {
      common::log::warn("instance stop failed", {{"instance", handle.instance_id}, {"error", ex.what()}});
    }
  });
}

InstanceState Reconciler::state_of(const std::string& id, Entry& e, const Observed& observed) const {
  if (e.stopping) return InstanceState::Stopping;
  switch (observed.state) {
    case RunState::Running: return InstanceState::Running;
    case RunState::Created: return InstanceState::Starting;
    case RunState::Exited:
      return observed.exit && observed.exit->stop_requested ? InstanceState::Stopped : InstanceState::Crashed;
    case RunState::Missing: break;
  }
  auto* d = desired_of(id);
  if (d && d->power == PowerState::Running) return e.error.empty() ? InstanceState::Starting : InstanceState::Error;
  return d && d->power == PowerState::Deleted ? InstanceState::Deleting : InstanceState::Stopped;
}

void Reconciler::note(const std::string& id, Entry& e, InstanceState state, const Observed& observed) {
  if (e.last_state == state) return;
  agentproto::InstanceEvent ev;
  ev.instance_id = id;
  ev.kind = state == InstanceState::Crashed ? agentproto::EventKind::Crash : agentproto::EventKind::Transition;
  ev.at = common::rfc3339_now(true);
  ev.from = e.last_state;
  ev.to = state;
  if (observed.exit) {
    ev.exit_code = observed.exit->code;
    ev.oom_killed = observed.exit->oom_killed;
    ev.reason = "exited with code " + std::to_string(observed.exit->code);
  } else {
    ev.reason = state == InstanceState::Error ? e.error : std::string("observed ") + agentproto::to_string(state);
  }
  if (ev.kind == agentproto::EventKind::Crash && e.handle) {
    try {
      for (auto& line : driver_.logs(*e.handle, kCrashLines)) ev.last_lines.push_back(std::move(line.text));
    } catch (const RuntimeError&) {
      // the output is gone with the instance; the crash record goes without it
    }
  }
  events_.push_back(std::move(ev));
  e.last_state = state;
}

std::vector<agentproto::InstanceReport> Reconciler::report() {
  std::lock_guard lock(mutex_);
  std::vector<agentproto::InstanceReport> out;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  for (auto& [id, e] : entries_) {
    agentproto::InstanceReport r;
    r.id = id;
    Observed observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
    r.state = state_of(id, e, observed);
    if (observed.exit) r.exit_code = observed.exit->code;
    if (e.handle && (observed.state == RunState::Running || observed.state == RunState::Created)) {
      try {
        auto s = driver_.stats(*e.handle);
        r.stats = {s.cpu_seconds, s.memory_bytes, s.memory_limit_bytes, s.pids, s.rx_bytes, s.tx_bytes, 0};
      } catch (const RuntimeError&) {
        // stats are best effort; the state is what the API needs
      }
      if (observed.started_at_unix_ms > 0 && now_ms > observed.started_at_unix_ms)
        r.stats.uptime_ms = static_cast<std::uint64_t>(now_ms - observed.started_at_unix_ms);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<agentproto::InstanceEvent> Reconciler::take_events() {
  std::lock_guard lock(mutex_);
  return std::exchange(events_, {});
}

std::vector<InstanceHandle> Reconciler::handles() const {
  std::lock_guard lock(mutex_);
  std::vector<InstanceHandle> out;
  for (const auto& [id, e] : entries_)
    if (e.handle) out.push_back(*e.handle);
  return out;
}

std::optional<InstanceHandle> Reconciler::handle(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(instance_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.handle;
}

}  // namespace agent
