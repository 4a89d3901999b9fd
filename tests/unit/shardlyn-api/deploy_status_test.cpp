// A deployment's status read from its instance's state (decision 0040).
#include "deploy/deploy.hpp"

#include <catch2/catch.hpp>

using agentproto::InstanceState;
using shardlyn::deploy::status_of;

TEST_CASE("a deployment follows its instance from pending to running") {
  CHECK(status_of(InstanceState::Creating, "created").status == "pending");
  CHECK(status_of(InstanceState::Installing, "install script started").status == "installing");
  CHECK(status_of(InstanceState::Starting, "").status == "starting");
  CHECK(status_of(InstanceState::Running, "done line seen").status == "running");
}

TEST_CASE("a failed install, a crash or an error is failed with the instance's reason") {
  for (auto state : {InstanceState::InstallFailed, InstanceState::Crashed, InstanceState::Error}) {
    auto s = status_of(state, "exit code 127");
    CHECK(s.status == "failed");
    CHECK(s.reason == "exit code 127");
  }
}

TEST_CASE("stopped, moving, going and gone instances") {
  CHECK(status_of(InstanceState::Stopping, "").status == "stopped");
  CHECK(status_of(InstanceState::Stopped, "").status == "stopped");
  CHECK(status_of(InstanceState::Migrating, "").status == "migrating");
  CHECK(status_of(InstanceState::Deleting, "").status == "deleting");
  CHECK(status_of(std::nullopt, "").status == "deleted");
}
