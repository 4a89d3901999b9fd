#include "instances/lifecycle.hpp"

#include <initializer_list>

#include "common/error.hpp"

namespace shardlyn::lifecycle {

namespace {

using S = InstanceState;

constexpr S kAll[] = {S::Creating, S::Installing, S::InstallFailed, S::Starting, S::Running, S::Stopping,
                      S::Stopped,  S::Crashed,    S::Error,         S::Migrating, S::Deleting};

bool in(S state, std::initializer_list<S> set) {
  for (S s : set)
    if (s == state) return true;
  return false;
}

// Nothing runs and nothing is about to.
bool at_rest(S s) { return in(s, {S::Stopped, S::Crashed, S::Error, S::InstallFailed}); }

void refuse_busy(const Current& c, PowerAction action) {
  if (in(c.state, {S::Deleting, S::Migrating}) || c.desired == PowerState::Deleted)
    throw common::ApiError::conflict(std::string("cannot ") + to_string(action) + " an instance that is " +
                                     (c.state == S::Migrating ? "migrating" : "being deleted"));
}

PowerPlan unchanged(const Current& c) { return {c.desired, false, false, std::nullopt, false}; }

PowerPlan start(const Current& c) {
  if (c.desired == PowerState::Running && !at_rest(c.state)) return unchanged(c);
  PowerPlan p{PowerState::Running, false, false, std::nullopt, true};
  if (at_rest(c.state) || c.state == S::Creating) p.state = S::Starting;
  // Desired running and at rest: crashed past its restart policy, or failed to start. The agent
  // already has `running`; a new restart generation asks it for a fresh start.
  p.bump_restart = c.desired == PowerState::Running;
  return p;
}

PowerPlan stop(const Current& c) {
  if (c.desired == PowerState::Stopped && (at_rest(c.state) || in(c.state, {S::Stopping, S::Creating})))
    return unchanged(c);
  PowerPlan p{PowerState::Stopped, false, false, std::nullopt, true};
  if (in(c.state, {S::Starting, S::Running})) p.state = S::Stopping;
  return p;
}

PowerPlan restart(const Current& c) {
  if (c.state != S::Running) return start(c);  // a restart under way, or nothing to stop first
  return {PowerState::Running, true, false, S::Stopping, true};
}

PowerPlan kill(const Current& c) {
  if (c.desired == PowerState::Stopped && (at_rest(c.state) || c.state == S::Creating)) return unchanged(c);
  PowerPlan p{PowerState::Stopped, false, true, std::nullopt, true};
  if (in(c.state, {S::Starting, S::Running, S::Stopping})) p.state = S::Stopping;
  return p;
}

}  // namespace

std::optional<InstanceState> state_from(std::string_view name) {
  for (S s : kAll)
    if (name == agentproto::to_string(s)) return s;
  return std::nullopt;
}

std::optional<PowerState> power_from(std::string_view name) {
  for (PowerState p : {PowerState::Running, PowerState::Stopped, PowerState::Deleted})
    if (name == agentproto::to_string(p)) return p;
  return std::nullopt;
}

const char* to_string(PowerAction action) {
  switch (action) {
    case PowerAction::Start: return "start";
    case PowerAction::Stop: return "stop";
    case PowerAction::Restart: return "restart";
    case PowerAction::Kill: return "kill";
  }
  return "start";
}

bool can_transition(InstanceState from, InstanceState to) {
  if (from == to) return false;
  switch (from) {
    case S::Creating: return in(to, {S::Installing, S::Stopped, S::Starting, S::Error, S::Deleting});
    case S::Installing: return in(to, {S::InstallFailed, S::Stopped, S::Starting, S::Error, S::Deleting});
    case S::InstallFailed: return in(to, {S::Installing, S::Starting, S::Stopped, S::Deleting});
    case S::Stopped: return in(to, {S::Starting, S::Installing, S::Migrating, S::Error, S::Deleting});
    case S::Starting: return in(to, {S::Running, S::Stopping, S::Crashed, S::Error, S::Deleting});
    case S::Running: return in(to, {S::Stopping, S::Stopped, S::Crashed, S::Error, S::Deleting});
    case S::Stopping: return in(to, {S::Stopped, S::Crashed, S::Error, S::Deleting});
    case S::Crashed: return in(to, {S::Starting, S::Stopped, S::Installing, S::Error, S::Deleting});
    case S::Error: return in(to, {S::Starting, S::Stopped, S::Installing, S::Deleting});
    case S::Migrating: return in(to, {S::Stopped, S::Running, S::Error});
    case S::Deleting: return false;
  }
  return false;
}

bool reaches_goal(const Current& current, InstanceState observed) {
  return (current.desired == PowerState::Running && observed == S::Running) ||
         (current.desired == PowerState::Stopped && observed == S::Stopped);
}

bool contradicts_desired(const Current& current, InstanceState reported) {
  return (current.desired == PowerState::Running && current.state == S::Starting && reported == S::Stopped) ||
         (current.desired == PowerState::Stopped && current.state == S::Stopping &&
          in(reported, {S::Starting, S::Running}));
}

bool accepts_observation(const Current& current, InstanceState observed) {
  if (current.state == S::Deleting || contradicts_desired(current, observed)) return false;
  return can_transition(current.state, observed) || (current.state != observed && reaches_goal(current, observed));
}

PowerPlan plan(const Current& current, PowerAction action) {
  refuse_busy(current, action);
  switch (action) {
    case PowerAction::Start: return start(current);
    case PowerAction::Stop: return stop(current);
    case PowerAction::Restart: return restart(current);
    case PowerAction::Kill: return kill(current);
  }
  return unchanged(current);
}

PowerPlan plan_delete(const Current& current) {
  if (current.state == S::Migrating) throw common::ApiError::conflict("cannot delete an instance that is migrating");
  if (current.desired == PowerState::Deleted) return unchanged(current);
  return {PowerState::Deleted, false, false, S::Deleting, true};
}

}  // namespace shardlyn::lifecycle
