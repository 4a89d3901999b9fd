// instances/ against a real SQLite file with the service's schema, the nodes/ seams faked:
// placement by bin-packing over what the nodes hold, coalescing power actions and their
// generations in the desired state, agent events and heartbeats, the metrics history.
#include "instances/instances.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "../store/temp_dir.hpp"
#include "common/error.hpp"
#include "common/library_schema.hpp"
#include "identity/schema.hpp"
#include "store/time.hpp"
#include "workloads/workloads.hpp"

std::span<const common::EmbeddedFile> shardlyn_api_migrations();

namespace {

using agentproto::InstanceState;
using agentproto::PowerState;
using namespace shardlyn;

constexpr std::int64_t Gi = 1024LL * 1024 * 1024;
constexpr const char* kOrg = "00000000-0000-4000-8000-00000000000a";

constexpr const char* kEcho = R"(apiVersion: shardlyn/v1
kind: Workload
metadata: {name: echo}
spec:
  command: ["/bin/sh", "-c", "echo {{GREETING}}; echo Server ready; while read l; do echo $l; done"]
  resources: {requests: {cpu: 1, memory: 2Gi}}
  startup: {done: ["Server ready"], timeout: 10s}
  stop: {command: quit}
  restartPolicy: {mode: on-failure, attempts: 2, delay: 1s}
  variables: [{name: Greeting, env: GREETING, default: "hi", rules: "required|string|max:10"}]
)";

// Bumped inside a transaction, current once published (after the commit).
struct FakeVersions : DesiredVersions {
  std::map<std::string, std::uint64_t> bumped, versions;
  std::uint64_t bump(store::Connection&, const std::string& node) override { return ++bumped[node]; }
  void publish(const std::string& node, std::uint64_t version) override {
    versions[node] = std::max(versions[node], version);
  }
  std::uint64_t current(const std::string& node) const override {
    auto it = versions.find(node);
    return it == versions.end() ? 0 : it->second;
  }
  void wait(const std::string& node, std::uint64_t, std::chrono::milliseconds,
            std::function<void(std::uint64_t)> ready) override {
    ready(current(node));
  }
};

struct FakeNodes : NodeDirectory {
  std::vector<NodeCapacity> all;
  std::vector<NodeCapacity> nodes_of(const std::string&) const override { return all; }
  std::optional<NodeCapacity> node(const std::string&, const std::string& id) const override {
    for (const auto& n : all)
      if (n.node_id == id) return n;
    return std::nullopt;
  }
};

struct World {
  store_test::TempDir dir;
  store::Database db{dir / "shardlyn.db"};
  FakeVersions versions;
  FakeNodes nodes;
  Workloads workloads{db};
  Instances instances{db, versions, nodes};
  Caller caller;
  std::string workload_id;

  // One heartbeat's instance reports, in a transaction of their own as the heartbeat's would be.
  void observe(const std::string& node, const std::vector<agentproto::InstanceReport>& reports) {
    DesiredBumps bumps(versions);
    db.write([&](store::Connection& c) {
      if (instances.observe(c, node, reports)) bumps.bump(c, node);
    });
    bumps.publish();
  }
  std::size_t count_on(const std::string& node) {
    return db.read([&](store::Connection& c) { return instances.count_on(c, node); });
  }

  World() {
    common::migrate_service(db, shardlyn_api_migrations(), identity::migrations());
    db.write([](store::Connection& c) {
      c.execute("INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, 'A', 0, 0)", kOrg);
    });
    caller.user_id = "user-1";
    caller.org_id = kOrg;
    nodes.all = {{"node-big", "big", true, "healthy", 4, static_cast<std::uint64_t>(8 * Gi), 0, {"process"}},
                 {"node-small", "small", true, "healthy", 2, static_cast<std::uint64_t>(4 * Gi), 0, {"process"}}};
    workload_id = workloads.create(caller, kEcho).id;
  }

  InstanceRecord create(const std::string& name, std::optional<std::string> node = std::nullopt,
                        std::map<std::string, std::string> variables = {}) {
    return instances.create(caller, {workload_id, name, std::move(node), std::move(variables), std::nullopt});
  }
  // Created, and set up by the agent (creating -> stopped).
  InstanceRecord created(const std::string& name, std::map<std::string, std::string> variables = {}) {
    auto r = create(name, "node-big", std::move(variables));
    report(r, InstanceState::Stopped);
    return instances.get(caller, r.id);
  }

  void report(const InstanceRecord& r, InstanceState to, agentproto::EventKind kind = agentproto::EventKind::Transition,
              std::vector<std::string> lines = {}) {
    agentproto::InstanceEvent e;
    e.instance_id = r.id;
    e.kind = kind;
    e.at = "2026-12-03T07:00:00Z";
    e.to = to;
    e.reason = "test";
    e.last_lines = std::move(lines);
    if (kind == agentproto::EventKind::Crash) e.exit_code = 3;
    auto outcome = instances.record(r.node_id, {{e}});
    REQUIRE(outcome.refused.empty());
  }
};

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const common::ApiError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace

TEST_CASE("placement packs the fullest node that fits, then the next; none fits: 409 with the reason") {
  World w;
  // Two of 1 cpu / 2Gi fill the small node (2 cores, 4Gi) before the big one is used.
  CHECK(w.create("a").node_id == "node-small");
  CHECK(w.create("b").node_id == "node-small");
  CHECK(w.create("c").node_id == "node-big");
  w.nodes.all[0].schedulable = false;  // big cordoned
  CHECK(status_of([&] { w.create("d"); }) == 409);
  CHECK(status_of([&] { w.create("e", "node-big"); }) == 409);  // named but not schedulable
  CHECK(status_of([&] { w.create("f", "node-gone"); }) == 404);
  CHECK(w.count_on("node-small") == 2);
}

TEST_CASE("an instance is created stopped with its transition, its variables checked by the workload's rules") {
  World w;
  auto r = w.create("a", "node-big", {{"GREETING", "hello"}});
  CHECK(r.state == InstanceState::Creating);
  CHECK(r.desired == PowerState::Stopped);
  CHECK(w.versions.current("node-big") == 1);
  auto shown = w.instances.get(w.caller, r.id);
  REQUIRE(shown.transitions.size() == 1);
  CHECK(shown.transitions[0].to == InstanceState::Creating);
  CHECK(status_of([&] { w.create("b", "node-big", {{"GREETING", "far too long a greeting"}}); }) == 400);
  CHECK(status_of([&] { w.create("c", "node-big", {{"NOPE", "x"}}); }) == 400);
  CHECK(status_of([&] { w.create("a", "node-big"); }) == 409);  // the name is taken
  Caller other = w.caller;
  other.org_id = "00000000-0000-4000-8000-00000000000b";
  CHECK(status_of([&] { w.instances.get(other, r.id); }) == 404);
  CHECK_FALSE(w.instances.find(other.org_id, r.id));
}

TEST_CASE("power actions coalesce; the desired state carries the generations and the resolved workload") {
  World w;
  auto r = w.created("a", {{"GREETING", "hello"}});
  auto started = w.instances.act(w.caller, r.id, PowerAction::Start);
  CHECK(started.state == InstanceState::Starting);
  auto version = w.versions.current("node-big");
  w.instances.act(w.caller, r.id, PowerAction::Start);  // coalesced: nothing new for the agent
  CHECK(w.versions.current("node-big") == version);
  w.report(r, InstanceState::Running);
  auto restarted = w.instances.act(w.caller, r.id, PowerAction::Restart);
  CHECK(restarted.restart_generation == 1);
  w.instances.act(w.caller, r.id, PowerAction::Restart);  // one under way
  auto desired = w.instances.desired("node-big", w.versions.current("node-big"));
  REQUIRE(desired.instances.size() == 1);
  const auto& d = desired.instances[0];
  CHECK(d.power == PowerState::Running);
  CHECK(d.restart_generation == 1);
  CHECK(d.kill_generation == 0);
  CHECK(d.workload.command.back().starts_with("echo hello;"));
  CHECK(d.workload.stop.command == "quit");
  CHECK(d.workload.startup.done == std::vector<std::string>{"Server ready"});
  CHECK(d.workload.startup.timeout_ms == 10000);
  CHECK(d.workload.restart.attempts == 2);
  CHECK(d.workload.restart.delay_ms == 1000);
  auto killed = w.instances.act(w.caller, r.id, PowerAction::Kill);
  CHECK(killed.kill_generation == 1);
  CHECK(killed.desired == PowerState::Stopped);
}

TEST_CASE("agent events record transitions and crashes; another node's instance and impossible moves are refused") {
  World w;
  auto r = w.created("a");
  w.instances.act(w.caller, r.id, PowerAction::Start);
  w.report(r, InstanceState::Running);
  std::vector<std::string> lines;
  for (int i = 0; i < 60; ++i) lines.push_back("line " + std::to_string(i));
  w.report(r, InstanceState::Crashed, agentproto::EventKind::Crash, lines);
  auto shown = w.instances.get(w.caller, r.id);
  CHECK(shown.state == InstanceState::Crashed);
  REQUIRE(shown.crashes.size() == 1);
  CHECK(shown.crashes[0].exit_code == 3);
  CHECK(shown.crashes[0].last_lines.size() == Instances::kCrashLines);
  CHECK(shown.crashes[0].last_lines.back() == "line 59");
  CHECK(shown.transitions[0].to == InstanceState::Crashed);
  CHECK(shown.transitions[0].actor == "agent");

  agentproto::InstanceEvent e;
  e.instance_id = r.id;
  e.at = "2026-12-03T07:00:00Z";
  e.to = InstanceState::Starting;
  CHECK(w.instances.record("node-small", {{e}}).refused.size() == 1);  // not that node's
  w.instances.remove(w.caller, r.id);
  CHECK(w.instances.record("node-big", {{e}}).refused.size() == 1);  // being deleted
}

TEST_CASE("heartbeats keep stats and history; a deleted instance goes once the agent stops reporting it") {
  World w;
  auto r = w.create("a", "node-big");
  agentproto::InstanceReport report{r.id, InstanceState::Stopped, std::nullopt, {1.5, 1000, 2000, 3, 10, 20, 500}};
  w.observe("node-big", {report});
  auto shown = w.instances.get(w.caller, r.id);
  CHECK(shown.state == InstanceState::Stopped);
  REQUIRE(shown.stats);
  CHECK(shown.stats->memory_bytes == 1000);
  auto now = store::unix_now();
  CHECK(w.instances.history(w.caller, r.id, {now - 60, now + 1, 0}).size() == 1);
  w.instances.remove(w.caller, r.id);
  w.observe("node-big", {report});  // still reported: still there
  CHECK(w.count_on("node-big") == 1);
  w.observe("node-big", {});
  CHECK(w.count_on("node-big") == 0);
}

TEST_CASE("a change and its desired version commit together: a refused change bumps nothing") {
  World w;
  auto r = w.created("a");
  auto version = w.versions.current("node-big");
  InstanceChanges changes{std::nullopt, std::map<std::string, std::string>{{"GREETING", "far too long"}}, std::nullopt};
  CHECK(status_of([&] { w.instances.update(w.caller, r.id, changes); }) == 400);
  CHECK(w.versions.current("node-big") == version);
  w.instances.act(w.caller, r.id, PowerAction::Start);
  CHECK(w.versions.current("node-big") == version + 1);
}

TEST_CASE("a drain stops what runs in its transaction; past the deadline what still stops is killed") {
  World w;
  auto a = w.created("a");
  auto b = w.created("b");
  w.instances.act(w.caller, a.id, PowerAction::Start);
  w.report(a, InstanceState::Running);
  DesiredBumps bumps(w.versions);
  auto outcome = w.db.write([&](store::Connection& c) {
    return w.instances.drain(c, "node-big", std::chrono::system_clock::now(), bumps);
  });
  bumps.publish();
  CHECK(outcome.stopped == std::vector<std::string>{a.id});  // b was stopped already
  CHECK(w.instances.get(w.caller, a.id).state == InstanceState::Stopping);
  auto version = w.versions.current("node-big");
  auto killed = w.db.write([&](store::Connection& c) { return w.instances.kill_stopping(c, "node-big", bumps); });
  bumps.publish();
  CHECK(killed == std::vector<std::string>{a.id});
  CHECK(w.instances.get(w.caller, a.id).kill_generation == 1);
  CHECK(w.versions.current("node-big") == version + 1);
  w.report(a, InstanceState::Stopped);
  CHECK(w.db.write([&](store::Connection& c) { return w.instances.kill_stopping(c, "node-big", bumps); }).empty());
  CHECK(w.instances.get(w.caller, b.id).kill_generation == 0);
}

TEST_CASE("a delete on a node that went offline completes without it") {
  World w;
  auto a = w.created("a");
  auto b = w.created("b");
  w.instances.remove(w.caller, a.id);
  CHECK(w.instances.forget_deletes_on_offline_nodes().empty());  // healthy: the agent will remove it
  w.nodes.all[0].status = "offline";
  CHECK(w.instances.forget_deletes_on_offline_nodes() == std::vector<std::string>{a.id});
  CHECK(status_of([&] { w.instances.get(w.caller, a.id); }) == 404);
  CHECK(w.instances.get(w.caller, b.id).state == InstanceState::Stopped);  // not being deleted: kept
  CHECK(w.instances.desired("node-big", 0).instances.size() == 1);
}

TEST_CASE("raw points older than a day become 5-minute points") {
  World w;
  auto r = w.create("a", "node-big");
  auto now = store::unix_now();
  auto old = (now - 2 * 86400) / 300 * 300;
  w.db.write([&](store::Connection& c) {
    for (int i = 0; i < 3; ++i)
      c.execute(
          "INSERT INTO instance_metrics (instance_id, resolution, at, cpu_seconds, memory_bytes, pids, rx_bytes, "
          "tx_bytes, uptime_ms) VALUES (?, 0, ?, ?, ?, 1, 0, 0, 0)",
          r.id, old + i * 10, 1.0 * i, 100 * (i + 1));
  });
  w.instances.compact_metrics(now);
  auto raw = w.instances.history(w.caller, r.id, {old - 1, now, 0});
  auto points = w.instances.history(w.caller, r.id, {old - 1, now, 300});
  CHECK(raw.empty());
  REQUIRE(points.size() == 1);
  CHECK(points[0].memory_bytes == 200);
  CHECK(points[0].cpu_seconds == 2.0);
}

TEST_CASE("a workload change its instances' variables no longer satisfy is refused, naming the instance") {
  World w;
  w.create("a", "node-big", {{"GREETING", "hello"}});
  std::string stricter = kEcho;
  stricter.replace(stricter.find("max:10"), 6, "max:3");
  auto parsed = workloads::parse(stricter);
  DesiredBumps bumps(w.versions);
  CHECK(status_of([&] {
          w.db.write([&](store::Connection& c) { w.instances.check_workload(c, w.workload_id, parsed, bumps); });
        }) == 409);
  CHECK(status_of([&] { w.workloads.remove(w.caller, w.workload_id); }) == 409);  // in use
}
