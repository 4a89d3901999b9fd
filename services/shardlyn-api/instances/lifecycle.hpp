#pragma once
// The instance state machine of the runtime spec, pure: which transitions exist, and what a
// power action does to an instance's desired state (decision 0027). Power actions are
// idempotent and coalesce: an action that would change nothing the agent acts on is a no-op,
// and an action the instance cannot take now is a 409 saying why. Nothing here holds a lock.
#include <optional>
#include <string>
#include <string_view>

#include "agentproto/messages.hpp"
#include "nodes/runtime_seams.hpp"

namespace shardlyn::lifecycle {

using agentproto::InstanceState;
using agentproto::PowerState;

std::optional<InstanceState> state_from(std::string_view name);
std::optional<PowerState> power_from(std::string_view name);
const char* to_string(PowerAction action);

// Whether the spec's state machine has the edge from -> to (the same state is no transition).
bool can_transition(InstanceState from, InstanceState to);

struct Current {
  InstanceState state = InstanceState::Stopped;
  PowerState desired = PowerState::Stopped;
};

// Whether a heartbeat's observed state replaces the stored one: an edge of the state machine,
// or the state the desired power aims at (a restart done, a stop done). A report that
// contradicts what the user just asked (stopped while starting) predates the agent's reading
// of the new desired state and is not taken; nothing replaces `deleting`.
bool accepts_observation(const Current& current, InstanceState observed);
// A reported state (heartbeat or event) that only the desired state before the user's last
// action explains: stopped while a start is under way, running while a stop is.
bool contradicts_desired(const Current& current, InstanceState reported);

// What an action changes: the desired power, a generation to bump, the state shown until the
// agent reports (starting, stopping). `changes()` false: the action coalesced into one under way.
struct PowerPlan {
  PowerState desired = PowerState::Stopped;
  bool bump_restart = false;
  bool bump_kill = false;
  std::optional<InstanceState> state;
  bool changed = false;
  bool changes() const { return changed; }
};

// Throws common::ApiError::conflict when the instance cannot take the action in its state.
PowerPlan plan(const Current& current, PowerAction action);
// What a delete changes (desired deleted, state deleting); 409 while migrating.
PowerPlan plan_delete(const Current& current);

}  // namespace shardlyn::lifecycle
