// What the node's requests rest on: which instance a process belongs to (from a /proc tree)
// and the engine's containers as records.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>

#include "agent_binary.hpp"
#include "node/processes.hpp"
#include "runtime/docker_containers.hpp"

using namespace agent;

namespace {

// A /proc/<pid>/stat line: the fields the kernel writes, state S, the given parent and group.
void fake_process(const std::filesystem::path& proc, int pid, const std::string& name, int ppid, int pgrp) {
  std::filesystem::create_directories(proc / std::to_string(pid));
  std::ofstream(proc / std::to_string(pid) / "stat")
      << pid << " (" << name << ") S " << ppid << " " << pgrp
      << " 0 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 1000 1000000 250 18446744073709551615\n";
}

}  // namespace

TEST_CASE("a process belongs to the instance whose group it shares or whose main process it descends from") {
  agent_test::TempDir dir("agent-proc");
  auto proc = dir.path;
  fake_process(proc, 1, "init", 0, 1);
  fake_process(proc, 50, "shardlyn-agent", 1, 50);
  fake_process(proc, 100, "sh", 50, 100);         // a process instance: leads its own group
  fake_process(proc, 101, "java (server)", 100, 100);
  fake_process(proc, 102, "daemonised", 1, 100);  // reparented to init, still in the group
  fake_process(proc, 200, "conmon", 1, 200);
  fake_process(proc, 201, "busybox", 200, 201);   // a container's init
  fake_process(proc, 202, "worker", 201, 202);    // its child in a group of its own
  fake_process(proc, 300, "sshd", 1, 300);
  fake_process(proc, 400, "loop-a", 401, 400);    // a parent loop (a reused pid) ends the walk
  fake_process(proc, 401, "loop-b", 400, 401);
  std::map<int, std::string> mains{{100, "mc-1"}, {201, "web-1"}};

  CHECK(owning_instance(proc, 100, mains) == "mc-1");
  CHECK(owning_instance(proc, 101, mains) == "mc-1");
  CHECK(owning_instance(proc, 102, mains) == "mc-1");
  CHECK(owning_instance(proc, 201, mains) == "web-1");
  CHECK(owning_instance(proc, 202, mains) == "web-1");
  CHECK_FALSE(owning_instance(proc, 200, mains));  // the engine's monitor is not the instance
  CHECK_FALSE(owning_instance(proc, 300, mains));
  CHECK_FALSE(owning_instance(proc, 50, mains));
  CHECK_FALSE(owning_instance(proc, 1, mains));
  CHECK_FALSE(owning_instance(proc, 400, mains));
  CHECK_FALSE(owning_instance(proc, 999, mains));  // no such process
  CHECK_FALSE(owning_instance(proc, 101, {}));
}

TEST_CASE("the engine's containers become records from a list entry and from an inspect") {
  auto listed = boost::json::parse(R"({"Id":"3f9a","Names":["/web"],"Image":"localhost/busybox:test",
      "State":"running","Status":"Up 3 minutes","Labels":{"io.shardlyn.instance":"web-1"}})");
  auto c = container_info(listed.as_object());
  CHECK(c.id == "3f9a");
  CHECK(c.name == "web");
  CHECK(c.image == "localhost/busybox:test");
  CHECK(c.state == "running");
  CHECK(c.status == "Up 3 minutes");
  CHECK(c.instance_id == "web-1");

  auto inspected = boost::json::parse(R"({"Id":"77aa","Name":"/other","Image":"sha256:0123",
      "Config":{"Image":"localhost/busybox:test","Labels":null},"State":{"Status":"exited","Running":false}})");
  c = container_info(inspected.as_object());
  CHECK(c.name == "other");
  CHECK(c.image == "localhost/busybox:test");
  CHECK(c.state == "exited");
  CHECK_FALSE(c.instance_id);
}
