// The process driver with real programs: each instance under a real supervisor (the agent
// binary's `supervise` mode), real signals, real /proc.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "agent_binary.hpp"
#include "common/files.hpp"
#include "runtime/process_driver.hpp"
#include "runtime/supervisor.hpp"

using namespace agent;
using namespace std::chrono_literals;
using agent_test::TempDir;

namespace {

// Prints a done line, echoes its input, and exits 3 on "quit".
const char* kEchoScript =
    "echo 'Server ready'; while read line; do echo \"echo: $line\"; [ \"$line\" = quit ] && exit 3; done";

Workload shell(const std::string& id, const std::string& script) {
  Workload w;
  w.instance_id = id;
  w.command = {"sh", "-c", script};
  return w;
}

struct Fixture {
  TempDir data{"agent-process"};
  ProcessDriver driver{data.path / "instances", data.path / "supervisors", SupervisorCommand{agent_test::agent_binary()}};
  // A test that failed half-way leaves no instance behind: its group ends, so does its supervisor.
  ~Fixture() {
    for (const auto& h : driver.recover())
      if (auto o = driver.inspect(h); o.state == RunState::Running && o.pid) ::kill(-*o.pid, SIGKILL);
  }
};

// Reads console lines until one starts with `text` (bounded; the supervisor's own notices start
// with "[shardlyn]", so they never match); returns it.
std::string wait_line(Console& console, const std::string& text, std::chrono::milliseconds within = 10s) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until && !console.ended()) {
    if (auto line = console.next(200ms); line && line->text.starts_with(text)) return line->text;
  }
  return {};
}

std::optional<ExitStatus> wait_exit(ProcessDriver& driver, const InstanceHandle& h, std::chrono::milliseconds within = 10s) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    auto o = driver.inspect(h);
    if (o.state == RunState::Exited) return o.exit;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

std::string all_text(const std::vector<OutputLine>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.text + "\n";
  return out;
}

bool process_gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  auto close = text.rfind(')');
  return close != std::string::npos && text.size() > close + 2 && text[close + 2] == 'Z';  // a zombie is gone too
}

}  // namespace

TEST_CASE_METHOD(Fixture, "a process instance prints, takes console input and stops with its stop command") {
  auto h = driver.start(shell("echo1", kEchoScript));
  auto console = driver.attach(h, 0);
  CHECK(wait_line(*console, "Server ready") == "Server ready");
  auto o = driver.inspect(h);
  REQUIRE(o.state == RunState::Running);
  REQUIRE(o.pid);
  CHECK(o.started_at_unix_ms > 0);
  driver.send_input(h, "hello");
  CHECK(wait_line(*console, "echo: hello") == "echo: hello");
  auto exit = driver.stop(h, StopPolicy{"quit", SIGTERM, 5s, 5s}, 15s);
  REQUIRE(exit);
  CHECK(exit->code == 3);
  CHECK_FALSE(exit->signal);
  CHECK(exit->stop_requested);
  auto logs = all_text(driver.logs(h, 100));
  CHECK_THAT(logs, Catch::Contains("Server ready") && Catch::Contains("echo: quit") &&
                       Catch::Contains("stop: sent the stop command") && Catch::Contains("exited with code 3"));
  CHECK_THAT(logs, !Catch::Contains("SIGTERM"));
  // The console log stays on disk after the supervisor is gone.
  CHECK_THAT(common::read_file(driver.state_dir("echo1") / supervisor_files::kConsoleLog), Catch::Contains("echo: hello"));
  driver.remove(h);
  CHECK(driver.inspect(h).state == RunState::Missing);
}

TEST_CASE_METHOD(Fixture, "a reconnecting console replays the lines after its last sequence number") {
  auto h = driver.start(shell("replay", "echo a; echo b; echo c; read x"));
  auto first = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*first, "c").empty());
  auto lines = driver.logs(h, 100);
  std::uint64_t seq_of_a = 0;
  for (const auto& l : lines)
    if (l.text == "a") seq_of_a = l.seq;
  REQUIRE(seq_of_a > 0);
  auto again = driver.attach(h, seq_of_a);
  auto next = again->next(5s);
  REQUIRE(next);
  CHECK(next->text == "b");
  CHECK(next->seq == seq_of_a + 1);
  driver.kill(h, SIGKILL);
  REQUIRE(wait_exit(driver, h));
}

TEST_CASE_METHOD(Fixture, "stop escalates: the command, then SIGTERM at the timeout, then SIGKILL") {
  // Ignores SIGTERM (inherited by its sleeps) and never reads stdin.
  auto h = driver.start(shell("stubborn", "trap '' TERM; echo up; while true; do sleep 0.1; done"));
  auto console = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*console, "up").empty());
  auto began = std::chrono::steady_clock::now();
  auto exit = driver.stop(h, StopPolicy{"quit", SIGTERM, 300ms, 300ms}, 15s);
  auto took = std::chrono::steady_clock::now() - began;
  REQUIRE(exit);
  CHECK(exit->signal == SIGKILL);
  CHECK(exit->code == 128 + SIGKILL);
  CHECK(exit->stop_requested);
  CHECK(took >= 600ms);  // both waits ran in full before SIGKILL
  auto logs = all_text(driver.logs(h, 100));
  auto command = logs.find("stop: sent the stop command");
  auto term = logs.find("sent SIGTERM");
  auto kill = logs.find("sent SIGKILL");
  REQUIRE(command != std::string::npos);
  REQUIRE(term != std::string::npos);
  REQUIRE(kill != std::string::npos);
  CHECK(command < term);
  CHECK(term < kill);
}

TEST_CASE_METHOD(Fixture, "a stop signal ends the whole process group, leftovers included") {
  auto h = driver.start(shell("group", "sleep 1000 & echo child $!; sleep 1000 & wait"));
  auto console = driver.attach(h, 0);
  auto line = wait_line(*console, "child ");
  REQUIRE_FALSE(line.empty());
  int background = std::stoi(line.substr(6));
  CHECK_FALSE(process_gone(background));
  auto exit = driver.stop(h, StopPolicy{"", SIGTERM, 5s, 5s}, 15s);
  REQUIRE(exit);
  CHECK(exit->signal == SIGTERM);
  auto logs = all_text(driver.logs(h, 100));
  CHECK_THAT(logs, Catch::Contains("stop: sent SIGTERM") && !Catch::Contains("SIGKILL"));
  for (int i = 0; i < 100 && !process_gone(background); ++i) std::this_thread::sleep_for(20ms);
  CHECK(process_gone(background));
}

TEST_CASE_METHOD(Fixture, "an exit the agent did not ask for is recorded with its code") {
  auto h = driver.start(shell("crash", "echo bye; exit 7"));
  auto exit = wait_exit(driver, h);
  REQUIRE(exit);
  CHECK(exit->code == 7);
  CHECK_FALSE(exit->stop_requested);
  CHECK_THAT(all_text(driver.logs(h, 10)), Catch::Contains("bye"));
  // A command that cannot run ends with 127 and says why on the console.
  auto missing = driver.start([] {
    Workload w;
    w.instance_id = "missing";
    w.command = {"no-such-program-anywhere"};
    return w;
  }());
  auto failed = wait_exit(driver, missing);
  REQUIRE(failed);
  CHECK(failed->code == 127);
  CHECK_THAT(all_text(driver.logs(missing, 10)), Catch::Contains("cannot run no-such-program-anywhere"));
}

TEST_CASE_METHOD(Fixture, "the instance root is the working directory and HOME; env comes from the workload only") {
  auto w = shell("where", "pwd; echo home=$HOME; echo var=$GREETING; echo leak=${SHARDLYN_TEST_LEAK:-none}; read x");
  w.env = {{"GREETING", "hi"}};
  ::setenv("SHARDLYN_TEST_LEAK", "yes", 1);
  auto h = driver.start(w);
  ::unsetenv("SHARDLYN_TEST_LEAK");
  auto console = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*console, "leak=").empty());
  auto logs = all_text(driver.logs(h, 10));
  auto root = std::filesystem::canonical(driver.root("where")).string();
  CHECK_THAT(logs, Catch::Contains(root + "\n") && Catch::Contains("home=" + driver.root("where").string()) &&
                       Catch::Contains("var=hi") && Catch::Contains("leak=none"));
  driver.kill(h, SIGKILL);
  REQUIRE(wait_exit(driver, h));
}

TEST_CASE_METHOD(Fixture, "limits are applied: cgroup files when writable, else rlimits") {
  auto w = shell("limited", "echo up; read x");
  w.limits = {0.5, 512ull << 20, 100, 321};
  auto h = driver.start(w);
  auto console = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*console, "up").empty());
  auto pid = driver.inspect(h).pid.value();
  auto limits = common::read_file("/proc/" + std::to_string(pid) + "/limits");
  CHECK_THAT(limits, Catch::Matches("[\\s\\S]*Max open files\\s+321\\s+321[\\s\\S]*"));
  auto state = boost::json::parse(common::read_file(driver.state_dir("limited") / supervisor_files::kState)).as_object();
  if (state.at("limits").as_string() == "cgroup") {
    std::filesystem::path group(std::string(state.at("cgroup").as_string()));
    CHECK(common::read_file(group / "memory.max") == std::to_string(512ull << 20) + "\n");
    CHECK(common::read_file(group / "pids.max") == "100\n");
    CHECK(common::read_file(group / "cpu.max") == "50000 100000\n");
    CHECK_THAT(common::read_file(group / "cgroup.procs"), Catch::Contains(std::to_string(pid)));
  } else {
    WARN("cgroup v2 not writable here, checking the rlimit fallback: " << all_text(driver.logs(h, 5)));
    CHECK_THAT(limits, Catch::Matches("[\\s\\S]*Max address space\\s+536870912\\s+536870912[\\s\\S]*"));
    CHECK_THAT(limits, Catch::Matches("[\\s\\S]*Max processes\\s+100\\s+100[\\s\\S]*"));
  }
  auto stats = driver.stats(h);
  CHECK(stats.pids >= 1);
  CHECK(stats.memory_bytes > 0);
  driver.kill(h, SIGKILL);
  REQUIRE(wait_exit(driver, h));
}

TEST_CASE_METHOD(Fixture, "bad requests are refused and change nothing") {
  CHECK_THROWS_WITH(driver.start(shell("../escape", "true")), Catch::Contains("instance id"));
  auto w = shell("wd", "true");
  w.working_dir = "../../etc";
  CHECK_THROWS_WITH(driver.start(w), Catch::Contains("inside the instance root"));
  w.working_dir = "/etc";
  CHECK_THROWS_WITH(driver.start(w), Catch::Contains("relative"));
  auto h = driver.start(shell("twice", "read x"));
  CHECK_THROWS_WITH(driver.start(shell("twice", "read x")), Catch::Contains("already running"));
  CHECK_THROWS_WITH(driver.remove(h), Catch::Contains("still running"));
  CHECK(driver.inspect(h).state == RunState::Running);
  driver.kill(h, SIGKILL);
  REQUIRE(wait_exit(driver, h));
  CHECK_THROWS_WITH(driver.send_input(h, "late"), Catch::Contains("not running"));
}

TEST_CASE_METHOD(Fixture, "the agent is killed with SIGKILL; a new one finds the instance still running and its console working") {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t agent_pid = ::fork();
  REQUIRE(agent_pid >= 0);
  if (agent_pid == 0) {  // the "agent": starts the instance, then waits to be killed
    ::close(ready[0]);
    try {
      ProcessDriver own(data.path / "instances", data.path / "supervisors", SupervisorCommand{agent_test::agent_binary()});
      own.start(shell("survivor", kEchoScript));
      (void)!::write(ready[1], "y", 1);
    } catch (...) {
      (void)!::write(ready[1], "n", 1);
    }
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char answer = 0;
  REQUIRE(::read(ready[0], &answer, 1) == 1);
  ::close(ready[0]);
  REQUIRE(answer == 'y');
  ::kill(agent_pid, SIGKILL);
  int status = 0;
  ::waitpid(agent_pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));

  ProcessDriver restarted(data.path / "instances", data.path / "supervisors", SupervisorCommand{agent_test::agent_binary()});
  auto found = restarted.recover();
  REQUIRE(found.size() == 1);
  CHECK(found[0].instance_id == "survivor");
  REQUIRE(restarted.inspect(found[0]).state == RunState::Running);
  auto console = restarted.attach(found[0], 0);
  CHECK(wait_line(*console, "Server ready") == "Server ready");  // replayed from the ring
  restarted.send_input(found[0], "still there?");
  CHECK(wait_line(*console, "echo: still there?") == "echo: still there?");
  auto exit = restarted.stop(found[0], StopPolicy{"quit", SIGTERM, 5s, 5s}, 15s);
  REQUIRE(exit);
  CHECK(exit->code == 3);
}

TEST_CASE_METHOD(Fixture, "an instance whose supervisor was killed is not started twice and can still be killed") {
  auto h = driver.start(shell("orphan", "echo up; exec sleep 1000"));
  auto console = driver.attach(h, 0);
  REQUIRE_FALSE(wait_line(*console, "up").empty());
  auto state = boost::json::parse(common::read_file(driver.state_dir("orphan") / supervisor_files::kState)).as_object();
  int supervisor = boost::json::value_to<int>(state.at("supervisor_pid"));
  int child = boost::json::value_to<int>(state.at("pid"));
  ::kill(supervisor, SIGKILL);
  for (int i = 0; i < 100 && !process_gone(supervisor); ++i) std::this_thread::sleep_for(20ms);
  CHECK(driver.inspect(h).state == RunState::Missing);  // no supervisor, no exit record
  CHECK_FALSE(process_gone(child));
  CHECK_THROWS_WITH(driver.start(shell("orphan", "true")), Catch::Contains("without its supervisor"));
  driver.kill(h, SIGKILL);  // straight to the process group
  for (int i = 0; i < 100 && !process_gone(child); ++i) std::this_thread::sleep_for(20ms);
  CHECK(process_gone(child));
  auto again = driver.start(shell("orphan", "echo back; read x"));
  auto next = driver.attach(again, 0);
  CHECK(wait_line(*next, "back") == "back");
  driver.kill(again, SIGKILL);
}
