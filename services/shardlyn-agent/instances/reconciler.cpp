#include "instances/reconciler.hpp"

#include <algorithm>
#include <csignal>
#include <utility>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "instances/config_files.hpp"
#include "runtime/stop_sequence.hpp"

namespace agent {

using agentproto::InstanceState;
using agentproto::PowerState;

namespace {

constexpr std::size_t kCrashLines = 50;
constexpr std::size_t kInstallLines = 200;
constexpr const char* kHoldError = "error";
constexpr const char* kHoldInstall = "install_failed";

std::chrono::milliseconds retry_delay(unsigned failures) {
  auto d = std::chrono::milliseconds(1000) * (1u << std::min(failures, 6u));
  return std::min(d, std::chrono::milliseconds(60000));
}

StopPolicy stop_policy(const agentproto::StopSpec& stop) {
  return {stop.command, signal_number(stop.signal), std::chrono::milliseconds(stop.timeout_ms),
          std::chrono::milliseconds(stop.kill_after_ms)};
}

// Stop sequences that outlast this bound keep going in the supervisor (process) or are
// re-issued by the next pass (docker).
std::chrono::milliseconds stop_deadline(const StopPolicy& p) { return p.timeout + p.kill_after + std::chrono::seconds(5); }

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool alive(const Observed& o) { return o.state == RunState::Running || o.state == RunState::Created; }

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

Workload install_workload(const std::string& instance_id, const agentproto::ResolvedWorkload& r) {
  auto w = runtime_workload(instance_id, r);
  const auto& install = *r.install;
  if (!install.image.empty()) w.image = install.image;
  w.command = {install.entrypoint.empty() ? "sh" : install.entrypoint, "-c", install.script};
  w.args.clear();
  w.working_dir.clear();
  w.mount_path = "/mnt/server";
  w.read_only_root = false;  // install scripts fetch and unpack
  w.console_input = false;
  w.stop = StopPolicy{};
  return w;
}

Reconciler::Reconciler(RuntimeDriver& driver, std::vector<InstanceHandle> recovered, const std::filesystem::path& data_dir)
    : driver_(driver), instances_(data_dir / "instances"), journal_(data_dir / "journal") {
  for (auto& h : recovered) {
    auto& e = entries_[h.instance_id];
    if (auto stored = journal_.load(h.instance_id)) {
      e.record = *stored;
      e.loaded = true;
    }
    e.handle = std::move(h);
  }
}

Reconciler::~Reconciler() { finish_stops(); }

void Reconciler::finish_stops() {
  std::lock_guard lock(mutex_);
  for (auto& [id, e] : entries_) {
    if (e.stopping) e.stopping->wait();
    e.watch.reset();
  }
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
    if (gone && (!d || d->power == PowerState::Deleted)) {
      journal_.forget(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

// The journal's record; an instance seen for the first time adopts the desired generations
// (a replayed document repeats no restart or kill).
void Reconciler::load(const std::string& id, const agentproto::DesiredInstance* desired, Entry& e) {
  if (e.loaded) return;
  e.loaded = true;
  if (auto stored = journal_.load(id)) {
    e.record = *stored;
  } else if (desired) {
    e.record.restart_generation = desired->restart_generation;
    e.record.kill_generation = desired->kill_generation;
  }
}

void Reconciler::converge(const std::string& id, const agentproto::DesiredInstance* desired, Entry& e) {
  load(id, desired, e);
  drain_steps(id, e);
  if (e.stopping) {
    if (e.stopping->wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      // A kill overtakes a stop under way (one that hangs, a drain past its deadline); the
      // stop sees the exit and ends.
      if (desired && e.handle) apply_kill(id, *desired, e, driver_.inspect(*e.handle));
      return;
    }
    e.stopping.reset();
    drain_steps(id, e);
  }
  Observed observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
  auto power = desired ? desired->power : PowerState::Deleted;  // not desired = not wanted here
  track_power(id, power, e);
  bool killed = desired && apply_generations(id, *desired, e, observed);
  if (!e.stopping && !killed) {
    if (power == PowerState::Running) {
      run_wanted(*desired, e, observed);
    } else if (alive(observed)) {
      e.watch.reset();
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
  }
  observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
  note(id, e, state_of(id, e, observed), observed);
}

// The desired power turning to running again is a user's start: it frees an instance held in
// error and begins a fresh restart budget.
void Reconciler::track_power(const std::string& id, PowerState power, Entry& e) {
  bool was_off = e.seen_power && *e.seen_power != PowerState::Running;
  bool was_on = e.seen_power && *e.seen_power == PowerState::Running;
  e.seen_power = power;
  if (was_on && power != PowerState::Running && !e.record.hold.empty()) {  // stopped by the user: no longer an error
    e.record.hold.clear();
    save(id, e);
  }
  if (!was_off || power != PowerState::Running) return;
  e.record.hold.clear();
  e.record.restarts_unix_ms.clear();
  e.record.restart_at_unix_ms = 0;
  e.start_asked = true;
  save(id, e);
}

// True when a kill went out now (the next pass sees the exit).
bool Reconciler::apply_kill(const std::string& id, const agentproto::DesiredInstance& d, Entry& e,
                            const Observed& observed) {
  if (d.kill_generation <= e.record.kill_generation) return false;
  e.record.kill_generation = d.kill_generation;
  save(id, e);
  if (!e.handle || !alive(observed)) return false;
  try {
    driver_.kill(*e.handle, SIGKILL);
    e.watch.reset();
    e.next_reason = "killed (SIGKILL) as asked";
    common::log::info("instance killed", {{"instance", id}});
    return true;
  } catch (const RuntimeError& ex) {
    common::log::warn("instance not killed", {{"instance", id}, {"error", ex.what()}});
    return false;
  }
}

// True when a kill went out now (the next pass sees the exit).
bool Reconciler::apply_generations(const std::string& id, const agentproto::DesiredInstance& d, Entry& e,
                                   const Observed& observed) {
  bool killed = apply_kill(id, d, e, observed);
  if (d.restart_generation <= e.record.restart_generation) return killed;
  e.record.restart_generation = d.restart_generation;
  e.record.hold.clear();
  e.record.restarts_unix_ms.clear();
  e.record.restart_at_unix_ms = 0;
  save(id, e);
  e.start_asked = true;
  e.next_reason = "restart asked";
  if (e.handle && alive(observed) && d.power == PowerState::Running) {
    e.watch.reset();
    begin_stop(id, e, stop_policy(d.workload.stop));
  }
  return killed;
}

void Reconciler::run_wanted(const agentproto::DesiredInstance& d, Entry& e, const Observed& observed) {
  if (e.record.installing) return finish_install(d, e, observed);
  if (!e.record.hold.empty()) return;
  if (alive(observed)) return watch_startup(d, e, observed);
  if (observed.state == RunState::Missing) {
    if (d.workload.install && !e.record.installed) return begin_install(d, e);
    return start(d, e);
  }
  // Exited.
  bool asked = observed.exit && observed.exit->stop_requested;
  if (!asked && !e.record.exit_handled) on_crash(d, e, observed);
  bool restart_due = e.record.restart_at_unix_ms > 0 && unix_ms() >= e.record.restart_at_unix_ms;
  if (restart_due && !asked && !e.start_asked) e.next_reason = "restarted by the restart policy";
  if (asked || e.start_asked || restart_due) start(d, e);
}

// The run seen ready goes to the journal at once: an agent killed right after still knows it.
void Reconciler::remember_ready(const std::string& id, Entry& e, const Observed& observed) {
  if (e.record.ready_run_started_at_ms == observed.started_at_unix_ms || !e.watch || !e.watch->ready()) return;
  e.record.ready_run_started_at_ms = observed.started_at_unix_ms;
  e.record.ready_reason = e.watch->ready()->reason;
  save(id, e);
}

void Reconciler::watch_startup(const agentproto::DesiredInstance& d, Entry& e, const Observed& observed) {
  if (ready(e, observed)) {
    remember_ready(d.id, e, observed);
    e.watch.reset();
    return;
  }
  if (!e.watch) e.watch = std::make_unique<ReadinessWatch>(driver_, *e.handle, d.workload, root(d.id));
  auto timeout = static_cast<std::int64_t>(d.workload.startup.timeout_ms);
  if (timeout == 0 || observed.started_at_unix_ms == 0 || unix_ms() < observed.started_at_unix_ms + timeout) return;
  std::string why = "startup.timeout: not running after " + std::to_string(timeout) + " ms";
  if (!d.workload.startup.done.empty()) why += "; no done line seen";
  if (auto failure = e.watch->last_failure(); !failure.empty()) why += "; " + failure;
  e.watch.reset();
  hold(d.id, e, kHoldError, why);
  begin_stop(d.id, e, stop_policy(d.workload.stop));
}

void Reconciler::on_crash(const agentproto::DesiredInstance& d, Entry& e, const Observed& observed) {
  RestartBudget budget(d.workload.restart, e.record.restarts_unix_ms);
  auto decision = budget.on_crash(*observed.exit, unix_ms());
  e.record.restarts_unix_ms = budget.restarts();
  e.record.exit_handled = true;
  e.record.restart_at_unix_ms = decision.restart ? unix_ms() + decision.delay.count() : 0;
  save(d.id, e);
  e.crash = observed.exit;
  e.next_reason = decision.reason;
  e.watch.reset();
  common::log::warn("instance crashed", {{"instance", d.id}, {"exit_code", observed.exit->code}, {"decision", decision.reason}});
}

void Reconciler::begin_install(const agentproto::DesiredInstance& d, Entry& e) {
  if (std::chrono::steady_clock::now() < e.retry_at) return;
  try {
    e.handle = driver_.start(install_workload(d.id, d.workload));
    e.record.installing = true;
    save(d.id, e);
    e.next_reason = "install script started";
    common::log::info("instance installing", {{"instance", d.id}, {"driver", driver_.name()}});
  } catch (const std::exception& ex) {
    start_failed(d.id, e, "install did not start", ex.what());
  }
}

// The install ended (or vanished with an agent that died meanwhile: it runs again): its result
// and log are an install event; success leads to the first start.
void Reconciler::finish_install(const agentproto::DesiredInstance& d, Entry& e, const Observed& observed) {
  if (alive(observed)) return;
  e.record.installing = false;
  if (observed.state == RunState::Missing) {
    e.handle.reset();
    save(d.id, e);
    return begin_install(d, e);
  }
  agentproto::InstanceEvent ev{d.id, agentproto::EventKind::Install, common::rfc3339_now(true), InstanceState::Installing,
                               InstanceState::Installing, {}, observed.exit->code};
  try {
    for (auto& line : driver_.logs(*e.handle, kInstallLines)) ev.last_lines.push_back(std::move(line.text));
    driver_.remove(*e.handle);
  } catch (const RuntimeError& ex) {
    common::log::warn("install run not cleaned up", {{"instance", d.id}, {"error", ex.what()}});
  }
  e.handle.reset();
  bool ok = observed.exit->code == 0;
  ev.install_succeeded = ok;
  ev.reason = "install script exited with code " + std::to_string(observed.exit->code);
  ev.to = ok ? InstanceState::Starting : InstanceState::InstallFailed;
  events_.push_back(ev);
  e.record.installed = ok;
  save(d.id, e);
  if (!ok) return hold(d.id, e, kHoldInstall, ev.reason);
  e.next_reason = "installed";
  start(d, e);
}

void Reconciler::start(const agentproto::DesiredInstance& desired, Entry& e) {
  if (std::chrono::steady_clock::now() < e.retry_at) return;
  try {
    write_config_files(root(desired.id), desired.workload.config_files);
    DoneMatcher check(desired.workload.startup.done);  // a bad regex is a start failure, not a silent never-ready
    e.watch.reset();
    if (e.handle) driver_.remove(*e.handle);
    e.handle.reset();
    e.handle = driver_.start(runtime_workload(desired.id, desired.workload));
    e.watch = std::make_unique<ReadinessWatch>(driver_, *e.handle, desired.workload, root(desired.id));
    if (e.next_reason.empty()) e.next_reason = "started";
    note(desired.id, e, InstanceState::Starting, Observed{});
    e.error.clear();
    e.failures = 0;
    e.start_asked = false;
    e.record.exit_handled = false;
    e.record.restart_at_unix_ms = 0;
    e.record.ready_run_started_at_ms = 0;
    save(desired.id, e);
    common::log::info("instance started", {{"instance", desired.id}, {"driver", driver_.name()}});
  } catch (const std::exception& ex) {
    start_failed(desired.id, e, "instance did not start", ex.what());
  }
}

// Reported as `error` with the reason; tried again after a growing delay.
void Reconciler::start_failed(const std::string& id, Entry& e, const char* what, const std::string& why) {
  e.error = why;
  e.retry_at = std::chrono::steady_clock::now() + retry_delay(e.failures++);
  common::log::warn(what, {{"instance", id}, {"error", why}});
}

void Reconciler::begin_stop(const std::string& id, Entry& e, const StopPolicy& policy) {
  common::log::info("instance stopping", {{"instance", id}});
  auto handle = *e.handle;
  auto steps = e.steps;
  e.stopping = std::async(std::launch::async, [this, handle, policy, steps] {
    try {
      driver_.stop(handle, policy, stop_deadline(policy), [&steps](const std::string& step) {
        std::lock_guard lock(steps->mutex);
        steps->steps.emplace_back(common::rfc3339_now(true), step);
      });
    } catch (const std::exception& ex) {
      common::log::warn("instance stop failed", {{"instance", handle.instance_id}, {"error", ex.what()}});
    }
  });
}

void Reconciler::hold(const std::string& id, Entry& e, const std::string& kind, const std::string& reason) {
  e.record.hold = kind;
  e.record.hold_reason = reason;
  save(id, e);
  common::log::warn("instance held", {{"instance", id}, {"state", kind}, {"reason", reason}});
}

// Each stop step as a transition that stays in `stopping`, with the step as its reason.
void Reconciler::drain_steps(const std::string& id, Entry& e) {
  std::vector<std::pair<std::string, std::string>> steps;
  {
    std::lock_guard lock(e.steps->mutex);
    steps.swap(e.steps->steps);
  }
  for (auto& [at, step] : steps)
    events_.push_back({id, agentproto::EventKind::Transition, at, InstanceState::Stopping, InstanceState::Stopping, step});
}

bool Reconciler::ready(const Entry& e, const Observed& observed) const {
  if (observed.state != RunState::Running) return false;
  if (e.record.ready_run_started_at_ms != 0 && e.record.ready_run_started_at_ms == observed.started_at_unix_ms) return true;
  return e.watch && e.watch->ready();
}

InstanceState Reconciler::state_of(const std::string& id, const Entry& e, const Observed& observed) const {
  if (e.record.hold == kHoldError) return InstanceState::Error;
  if (e.record.hold == kHoldInstall) return InstanceState::InstallFailed;
  if (e.record.installing) return InstanceState::Installing;
  if (e.stopping) return InstanceState::Stopping;
  switch (observed.state) {
    case RunState::Running: return ready(e, observed) ? InstanceState::Running : InstanceState::Starting;
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
  auto exit = state == InstanceState::Crashed && e.crash ? e.crash : observed.exit;
  if (exit) {
    ev.exit_code = exit->code;
    ev.signal = exit->signal;
    ev.oom_killed = exit->oom_killed;
  }
  // The reason of an action (a kill, a restart asked) names every step until the instance is
  // at rest or running: "stopping" and then "stopped" both say why.
  bool transient = state == InstanceState::Starting || state == InstanceState::Stopping ||
                   state == InstanceState::Installing;
  std::string why = transient ? e.next_reason : std::exchange(e.next_reason, {});
  if (state == InstanceState::Error || state == InstanceState::InstallFailed)
    ev.reason = e.record.hold.empty() ? e.error : e.record.hold_reason;
  else if (state == InstanceState::Running && e.watch && e.watch->ready())
    ev.reason = e.watch->ready()->reason;
  else if (state == InstanceState::Running && !e.record.ready_reason.empty())
    ev.reason = e.record.ready_reason;
  else if (!why.empty())
    ev.reason = why;
  else if (exit)
    ev.reason = "exited with code " + std::to_string(exit->code);
  else
    ev.reason = std::string("observed ") + agentproto::to_string(state);
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
  auto now_ms = unix_ms();
  for (auto& [id, e] : entries_) {
    agentproto::InstanceReport r;
    r.id = id;
    Observed observed = e.handle ? driver_.inspect(*e.handle) : Observed{};
    r.state = state_of(id, e, observed);
    if (r.state == InstanceState::Running) {  // readiness is recorded at once
      remember_ready(id, e, observed);
      note(id, e, r.state, observed);
    }
    if (observed.exit) r.exit_code = observed.exit->code;
    if (e.handle && observed.state == RunState::Running) {
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
  for (auto& [id, e] : entries_) drain_steps(id, e);
  return std::exchange(events_, {});
}

bool Reconciler::has_events() const {
  std::lock_guard lock(mutex_);
  return !events_.empty();
}

bool Reconciler::settling() const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, e] : entries_) {
    if (e.watch || e.stopping || e.record.installing) return true;
    if (e.last_state && (*e.last_state == InstanceState::Starting || *e.last_state == InstanceState::Stopping))
      return true;
  }
  return false;
}

std::vector<InstanceHandle> Reconciler::handles() const {
  std::lock_guard lock(mutex_);
  std::vector<InstanceHandle> out;
  for (const auto& [id, e] : entries_)
    if (e.handle) out.push_back(*e.handle);
  return out;
}

bool Reconciler::installing(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(instance_id);
  return it != entries_.end() && it->second.record.installing;
}

std::optional<InstanceHandle> Reconciler::handle(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(instance_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.handle;
}

}  // namespace agent
