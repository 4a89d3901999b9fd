// The instance state machine and what power actions do to the desired state (decision 0027).
#include "instances/lifecycle.hpp"

#include <catch2/catch.hpp>

#include "common/error.hpp"

using agentproto::InstanceState;
using agentproto::PowerState;
using shardlyn::PowerAction;
using namespace shardlyn::lifecycle;

namespace {

int conflict_of(const Current& c, PowerAction a) {
  try {
    plan(c, a);
  } catch (const common::ApiError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace

TEST_CASE("state names round-trip and unknown names are refused") {
  for (auto s : {InstanceState::Creating, InstanceState::InstallFailed, InstanceState::Running, InstanceState::Deleting})
    CHECK(state_from(agentproto::to_string(s)) == s);
  CHECK_FALSE(state_from("paused"));
  CHECK(power_from("deleted") == PowerState::Deleted);
  CHECK_FALSE(power_from("paused"));
}

TEST_CASE("the state machine has the spec's edges and no others") {
  CHECK(can_transition(InstanceState::Creating, InstanceState::Installing));
  CHECK(can_transition(InstanceState::Installing, InstanceState::InstallFailed));
  CHECK(can_transition(InstanceState::Starting, InstanceState::Running));
  CHECK(can_transition(InstanceState::Starting, InstanceState::Error));  // startup.timeout passed
  CHECK(can_transition(InstanceState::Running, InstanceState::Crashed));
  CHECK(can_transition(InstanceState::Crashed, InstanceState::Starting));  // the restart policy
  CHECK(can_transition(InstanceState::Stopping, InstanceState::Stopped));
  CHECK_FALSE(can_transition(InstanceState::Stopped, InstanceState::Running));  // always through starting
  CHECK_FALSE(can_transition(InstanceState::Stopped, InstanceState::Crashed));  // nothing ran
  CHECK_FALSE(can_transition(InstanceState::Deleting, InstanceState::Running));
  CHECK_FALSE(can_transition(InstanceState::Running, InstanceState::Running));
}

TEST_CASE("a heartbeat's state is taken along an edge or when it reaches the goal, never against a fresh intent") {
  CHECK(accepts_observation({InstanceState::Starting, PowerState::Running}, InstanceState::Running));
  // Asked to start a moment ago; the heartbeat was taken before the agent read that.
  CHECK_FALSE(accepts_observation({InstanceState::Starting, PowerState::Running}, InstanceState::Stopped));
  CHECK_FALSE(accepts_observation({InstanceState::Stopping, PowerState::Stopped}, InstanceState::Running));
  // A restart (stopping, desired running) that is over: running again.
  CHECK(accepts_observation({InstanceState::Stopping, PowerState::Running}, InstanceState::Running));
  CHECK(accepts_observation({InstanceState::Creating, PowerState::Stopped}, InstanceState::Stopped));
  CHECK_FALSE(accepts_observation({InstanceState::Deleting, PowerState::Deleted}, InstanceState::Stopped));
  CHECK_FALSE(accepts_observation({InstanceState::Running, PowerState::Running}, InstanceState::Running));
}

TEST_CASE("start asks for running and shows starting; a second start coalesces") {
  auto p = plan({InstanceState::Stopped, PowerState::Stopped}, PowerAction::Start);
  CHECK(p.changes());
  CHECK(p.desired == PowerState::Running);
  CHECK(p.state == InstanceState::Starting);
  CHECK_FALSE(p.bump_restart);
  CHECK_FALSE(plan({InstanceState::Starting, PowerState::Running}, PowerAction::Start).changes());
  CHECK_FALSE(plan({InstanceState::Running, PowerState::Running}, PowerAction::Start).changes());
  // Started before the agent set it up: shown starting, and the agent's "stopped" of the set-up
  // (it read the document before the start) is stale, so a second start still coalesces.
  auto early = plan({InstanceState::Creating, PowerState::Stopped}, PowerAction::Start);
  CHECK(early.state == InstanceState::Starting);
  CHECK(contradicts_desired({InstanceState::Starting, PowerState::Running}, InstanceState::Stopped));
  CHECK_FALSE(contradicts_desired({InstanceState::Running, PowerState::Running}, InstanceState::Stopped));
  CHECK(contradicts_desired({InstanceState::Stopping, PowerState::Stopped}, InstanceState::Running));
  CHECK_FALSE(contradicts_desired({InstanceState::Stopping, PowerState::Running}, InstanceState::Running));
  // A crashed instance the policy gave up on starts again on request.
  auto again = plan({InstanceState::Crashed, PowerState::Running}, PowerAction::Start);
  CHECK(again.state == InstanceState::Starting);
  CHECK(again.bump_restart);  // the agent has `running` already: a new generation starts it afresh
}

TEST_CASE("stop of a running instance shows stopping; of a stopped one changes nothing") {
  auto p = plan({InstanceState::Running, PowerState::Running}, PowerAction::Stop);
  CHECK(p.desired == PowerState::Stopped);
  CHECK(p.state == InstanceState::Stopping);
  CHECK_FALSE(plan({InstanceState::Stopped, PowerState::Stopped}, PowerAction::Stop).changes());
  CHECK_FALSE(plan({InstanceState::Stopping, PowerState::Stopped}, PowerAction::Stop).changes());
}

TEST_CASE("restart bumps the generation once; one under way absorbs the next") {
  auto p = plan({InstanceState::Running, PowerState::Running}, PowerAction::Restart);
  CHECK(p.bump_restart);
  CHECK(p.state == InstanceState::Stopping);
  CHECK(p.desired == PowerState::Running);
  // While it stops (and starts again) another restart asks for nothing new.
  CHECK_FALSE(plan({InstanceState::Stopping, PowerState::Running}, PowerAction::Restart).changes());
  CHECK_FALSE(plan({InstanceState::Starting, PowerState::Running}, PowerAction::Restart).changes());
  // Restarting a stopped instance starts it, without a generation.
  auto s = plan({InstanceState::Stopped, PowerState::Stopped}, PowerAction::Restart);
  CHECK_FALSE(s.bump_restart);
  CHECK(s.desired == PowerState::Running);
}

TEST_CASE("kill bumps the kill generation and asks for stopped, also during a stop") {
  auto p = plan({InstanceState::Running, PowerState::Running}, PowerAction::Kill);
  CHECK(p.bump_kill);
  CHECK(p.desired == PowerState::Stopped);
  CHECK(plan({InstanceState::Stopping, PowerState::Stopped}, PowerAction::Kill).bump_kill);  // a stop that hangs
  CHECK_FALSE(plan({InstanceState::Stopped, PowerState::Stopped}, PowerAction::Kill).changes());
}

TEST_CASE("an instance being deleted or migrated takes no power action: 409") {
  for (auto a : {PowerAction::Start, PowerAction::Stop, PowerAction::Restart, PowerAction::Kill}) {
    CHECK(conflict_of({InstanceState::Deleting, PowerState::Deleted}, a) == 409);
    CHECK(conflict_of({InstanceState::Migrating, PowerState::Running}, a) == 409);
  }
  CHECK(plan_delete({InstanceState::Running, PowerState::Running}).state == InstanceState::Deleting);
  CHECK_FALSE(plan_delete({InstanceState::Deleting, PowerState::Deleted}).changes());
  CHECK_THROWS_AS(plan_delete({InstanceState::Migrating, PowerState::Running}), common::ApiError);
}
