// The rules of the instance state machine on their own: the restart policy's budget and
// backoff, done-line matching, the stop sequence's steps, config files confined to the root,
// and the health check probes against real sockets and programs on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "agent_binary.hpp"
#include "common/files.hpp"
#include "instances/config_files.hpp"
#include "instances/readiness.hpp"
#include "instances/restart_policy.hpp"
#include "runtime/stop_sequence.hpp"

using namespace agent;
using namespace std::chrono_literals;
using agent_test::TempDir;

namespace {

ExitStatus exited(int code) { return ExitStatus{code, std::nullopt, false, false}; }

agentproto::RestartSpec policy(agentproto::RestartMode mode, std::uint32_t attempts = 3) {
  return {mode, attempts, 60000, 1000, 2.0};
}

// A listening socket on 127.0.0.1 and an ephemeral port; answers each connection with `reply`.
struct Listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint32_t port = 0;
  std::jthread server;
  explicit Listener(std::string reply = {}) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (reply.empty()) return;
    server = std::jthread([this, reply] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[1024];
      (void)!::read(c, buf, sizeof buf);
      (void)!::write(c, reply.data(), reply.size());
      ::close(c);
    });
  }
  ~Listener() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
};

}  // namespace

TEST_CASE("restart policy: never, on-failure and always decide by the exit") {
  RestartBudget never(policy(agentproto::RestartMode::Never));
  auto d = never.on_crash(exited(1), 0);
  CHECK_FALSE(d.restart);
  CHECK(d.reason == "exited with code 1; restart policy: never");

  RestartBudget on_failure(policy(agentproto::RestartMode::OnFailure));
  CHECK_FALSE(on_failure.on_crash(exited(0), 0).restart);
  CHECK(on_failure.on_crash(exited(2), 0).restart);
  CHECK(on_failure.on_crash(ExitStatus{137, SIGKILL, false, false}, 10).reason.starts_with("ended by signal 9"));
  CHECK(on_failure.on_crash(ExitStatus{0, std::nullopt, true, false}, 20).reason.starts_with("killed out of memory"));

  RestartBudget always(policy(agentproto::RestartMode::Always));
  CHECK(always.on_crash(exited(0), 0).restart);
}

TEST_CASE("restart policy: the delay grows by the backoff and the budget is per interval") {
  RestartBudget b(policy(agentproto::RestartMode::OnFailure, 3));
  auto first = b.on_crash(exited(1), 1000);
  auto second = b.on_crash(exited(1), 3000);
  auto third = b.on_crash(exited(1), 7000);
  CHECK(first.delay == 1000ms);
  CHECK(second.delay == 2000ms);
  CHECK(third.delay == 4000ms);
  CHECK(third.reason == "exited with code 1; restart 3 of 3 in 4000 ms (restart policy on-failure)");
  auto fourth = b.on_crash(exited(1), 12000);
  CHECK_FALSE(fourth.restart);
  CHECK(fourth.reason == "exited with code 1; restart policy: 3 restarts within 60000 ms used up");
  // Once the first restarts leave the interval, the budget is back (and the backoff with it).
  auto later = b.on_crash(exited(1), 2000 + 60000 + 1);
  REQUIRE(later.restart);
  CHECK(later.delay == 4000ms);  // two restarts are still inside the interval
  // Remembered restarts come back from the journal as they were.
  RestartBudget again(policy(agentproto::RestartMode::OnFailure, 3), b.restarts());
  CHECK_FALSE(again.on_crash(exited(1), 2000 + 60000 + 2).restart);
  b.reset();
  CHECK(b.on_crash(exited(1), 70000).delay == 1000ms);
}

TEST_CASE("restart policy: a backoff never waits past the interval") {
  RestartBudget b({agentproto::RestartMode::Always, 10, 5000, 1000, 10.0});
  b.on_crash(exited(1), 0);
  CHECK(b.on_crash(exited(1), 1).delay == 5000ms);  // 1000 * 10 capped at 5000
}

TEST_CASE("done markers: substrings and regexes, on the line as a person sees it") {
  DoneMatcher m({"Server ready", "regex:^Done \\([0-9.]+s\\)!"});
  CHECK(m.match("[12:00:01] Server ready on port 25565") == "Server ready");
  CHECK(m.match("Done (3.21s)! For help, type \"help\"") == "regex:^Done \\([0-9.]+s\\)!");
  CHECK_FALSE(m.match("Loading Done (3.21s)!"));  // anchored
  CHECK_FALSE(m.match("server ready"));             // case matters, as in the eggs
  CHECK(m.match("\x1b[32mServer\x1b[0m ready") == "Server ready");  // colours removed
  CHECK(strip_ansi("\x1b]0;title\aDone") == "Done");
  CHECK(DoneMatcher({}).empty());
  CHECK_THROWS_WITH(DoneMatcher({"ok", "regex:(unclosed"}), Catch::StartsWith("startup.done[1]: not a valid regex"));
}

TEST_CASE("stop sequence: the command, SIGTERM at the timeout, SIGKILL after the grace") {
  StopSequence s(StopPolicy{"quit", SIGTERM, 2000ms, 500ms});
  auto t0 = StopSequence::Clock::time_point{} + 1h;
  CHECK_FALSE(s.deadline());
  auto first = s.begin(t0);
  CHECK(first.kind == StopAction::Kind::Input);
  CHECK(first.input == "quit");
  CHECK(first.note == "stop: sent the stop command 'quit'");
  CHECK(s.deadline() == t0 + 2000ms);
  CHECK_FALSE(s.advance(t0 + 1999ms));
  auto term = s.advance(t0 + 2000ms);
  REQUIRE(term);
  CHECK(term->signal == SIGTERM);
  CHECK(term->note == "stop: still running after 2000 ms, sent SIGTERM");
  CHECK_FALSE(s.advance(t0 + 2499ms));
  auto kill = s.advance(t0 + 2500ms);
  REQUIRE(kill);
  CHECK(kill->signal == SIGKILL);
  CHECK(kill->note == "stop: still running 500 ms after SIGTERM, sent SIGKILL");
  CHECK_FALSE(s.deadline());
  CHECK_FALSE(s.advance(t0 + 1h));
}

TEST_CASE("stop sequence: a stop signal first; SIGTERM as the stop signal goes straight to SIGKILL") {
  StopSequence intr(StopPolicy{"", SIGINT, 1000ms, 300ms});
  auto t0 = StopSequence::Clock::time_point{} + 1h;
  auto first = intr.begin(t0);
  CHECK(first.kind == StopAction::Kind::Signal);
  CHECK(first.signal == SIGINT);
  CHECK(first.note == "stop: sent SIGINT");
  CHECK(intr.advance(t0 + 1000ms)->signal == SIGTERM);
  CHECK(intr.advance(t0 + 1300ms)->signal == SIGKILL);

  StopSequence term(StopPolicy{"", SIGTERM, 1000ms, 300ms});
  CHECK(term.begin(t0).signal == SIGTERM);
  auto kill = term.advance(t0 + 1000ms);
  REQUIRE(kill);
  CHECK(kill->signal == SIGKILL);
  CHECK(kill->note == "stop: still running 1000 ms after SIGTERM, sent SIGKILL");
  CHECK(signal_name(42) == "signal 42");
}

TEST_CASE("config files are rewritten in the instance root with the egg parsers, and stay inside it") {
  TempDir root("agent-config");
  common::write_file_atomic(root.path / "server.properties", "# comment\nserver-port=1\nmotd=hello\n", 0644);
  common::write_file_atomic(root.path / "game.ini", "[net]\nport=1\n[game]\nport=2\n", 0644);
  write_config_files(root.path, {{"server.properties", "properties", {{"server-port", std::nullopt, "25565"}}},
                                 {"config/settings.json", "json", {{"game.max", std::nullopt, "20"}}},
                                 {"bot.yml", "yaml", {{"server.name", std::nullopt, "alpha"}}},
                                 {"game.ini", "ini", {{"net.port", std::nullopt, "7777"}}},
                                 {"start.txt", "file", {{"PORT=", std::nullopt, "PORT=9"}}}});
  CHECK(common::read_file(root.path / "server.properties") == "# comment\nserver-port=25565\nmotd=hello\n");
  CHECK_THAT(common::read_file(root.path / "config/settings.json"), Catch::Contains("\"max\"") && Catch::Contains("20"));
  CHECK_THAT(common::read_file(root.path / "bot.yml"), Catch::Contains("name: alpha"));
  CHECK_THAT(common::read_file(root.path / "game.ini"), Catch::Contains("[net]\nport=7777\n[game]\nport=2"));

  CHECK_THROWS_WITH(write_config_files(root.path, {{"../escape.properties", "properties", {}}}),
                    "config_files[0] ../escape.properties: must stay inside the instance root");
  std::filesystem::create_directory_symlink("/etc", root.path / "etc");
  CHECK_THROWS_WITH(write_config_files(root.path, {{"etc/passwd", "file", {}}}),
                    "config_files[0] etc/passwd: is reached through a symbolic link");
  common::write_file_atomic(root.path / "broken.json", "{not json", 0644);
  CHECK_THROWS_WITH(write_config_files(root.path, {{"broken.json", "json", {{"a", std::nullopt, "1"}}}}),
                    Catch::StartsWith("config_files[0] broken.json: "));
  CHECK(common::read_file(root.path / "broken.json") == "{not json");  // left as it was
}

TEST_CASE("health checks: tcp connects, http wants 2xx or 3xx, exec wants exit 0") {
  TempDir root("agent-probe");
  Listener tcp;
  agentproto::HealthcheckSpec check{agentproto::HealthcheckKind::Tcp, tcp.port, "/", {}, 1000, 1000};
  CHECK(probe(check, "127.0.0.1", root.path) == "");
  CHECK(describe(check, "127.0.0.1") == "tcp 127.0.0.1:" + std::to_string(tcp.port));
  auto closed_port = tcp.port;
  { Listener gone; closed_port = gone.port; }
  check.port = closed_port;
  CHECK_THAT(probe(check, "127.0.0.1", root.path), Catch::StartsWith("connect: "));

  Listener ok("HTTP/1.0 204 No Content\r\n\r\n");
  agentproto::HealthcheckSpec http{agentproto::HealthcheckKind::Http, ok.port, "/ready", {}, 1000, 2000};
  CHECK(probe(http, "127.0.0.1", root.path) == "");
  Listener bad("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  http.port = bad.port;
  CHECK(probe(http, "127.0.0.1", root.path) == "http: answered 503");

  common::write_file_atomic(root.path / "marker", "", 0644);
  agentproto::HealthcheckSpec exec{agentproto::HealthcheckKind::Exec, 0, "/", {"test", "-f", "marker"}, 1000, 2000};
  CHECK(probe(exec, "127.0.0.1", root.path) == "");  // run in the instance root
  exec.command = {"sh", "-c", "exit 4"};
  CHECK(probe(exec, "127.0.0.1", root.path) == "exec: exited with code 4");
  exec.command = {"/nonexistent/ready"};
  CHECK_THAT(probe(exec, "127.0.0.1", root.path), Catch::StartsWith("exec: cannot run /nonexistent/ready"));
}
