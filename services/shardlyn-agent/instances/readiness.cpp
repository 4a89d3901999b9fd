#include "instances/readiness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "runtime/unix_socket.hpp"

extern char** environ;

namespace agent {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kConsoleWait{200};
constexpr std::string_view kAgentNotice = "[shardlyn] ";

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A TCP connection to host:port within `timeout`, or why not.
Fd connect_tcp(const std::string& host, std::uint32_t port, std::chrono::milliseconds timeout, std::string& why) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    why = "not an IPv4 address: " + host;
    return {};
  }
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    why = std::string("connect: ") + std::strerror(errno);
    return {};
  }
  pollfd p{fd.get(), POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    why = "connect: no answer within " + std::to_string(timeout.count()) + " ms";
    return {};
  }
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    why = std::string("connect: ") + std::strerror(err);
    return {};
  }
  return fd;
}

std::string probe_http(const agentproto::HealthcheckSpec& check, const std::string& host,
                       std::chrono::milliseconds timeout) {
  std::string why;
  Fd fd = connect_tcp(host, check.port, timeout, why);
  if (!fd) return why;
  std::string request = "GET " + check.path + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (!write_all(fd.get(), request)) return "http: the request could not be sent";
  std::string head;
  auto until = Clock::now() + timeout;
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    pollfd p{fd.get(), POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return "http: no answer within " + std::to_string(timeout.count()) + " ms";
    char chunk[1024];
    ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n <= 0) break;
    head.append(chunk, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 204 No Content"
  auto space = head.find(' ');
  if (!head.starts_with("HTTP/") || space == std::string::npos || head.size() < space + 4) return "http: not an HTTP answer";
  auto status = head.substr(space + 1, 3);
  if (status[0] != '2' && status[0] != '3') return "http: answered " + status;
  return "";
}

std::string probe_exec(const agentproto::HealthcheckSpec& check, const std::filesystem::path& root,
                       std::chrono::milliseconds timeout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, root.c_str());
  std::vector<char*> argv;
  for (const auto& a : check.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return "exec: cannot run " + check.command[0] + ": " + std::strerror(rc);
  auto until = Clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "exec: still running after " + std::to_string(timeout.count()) + " ms";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return WIFEXITED(status) ? "exec: exited with code " + std::to_string(WEXITSTATUS(status))
                           : "exec: ended by signal " + std::to_string(WTERMSIG(status));
}

}  // namespace

std::string strip_ansi(std::string_view line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\x1b' || i + 1 >= line.size()) {
      out += line[i];
      continue;
    }
    char kind = line[++i];
    if (kind == '[') {  // CSI: parameters, then one final byte in @..~
      while (i + 1 < line.size() && !(line[i + 1] >= '@' && line[i + 1] <= '~')) ++i;
      ++i;
    } else if (kind == ']') {  // OSC: up to BEL or ESC backslash
      while (i + 1 < line.size() && line[i + 1] != '\a' && line[i + 1] != '\x1b') ++i;
      ++i;
      if (i < line.size() && line[i] == '\x1b') ++i;
    }
  }
  return out;
}

DoneMatcher::DoneMatcher(const std::vector<std::string>& markers) {
  for (std::size_t i = 0; i < markers.size(); ++i) {
    Marker m{markers[i], std::nullopt};
    if (markers[i].starts_with("regex:")) {
      try {
        m.regex.emplace(markers[i].substr(6), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw RuntimeError("startup.done[" + std::to_string(i) + "]: not a valid regex: " + e.what());
      }
    }
    markers_.push_back(std::move(m));
  }
}

std::optional<std::string> DoneMatcher::match(std::string_view line) const {
  auto text = strip_ansi(line);
  for (const auto& m : markers_) {
    bool hit = m.regex ? std::regex_search(text, *m.regex) : text.find(m.written) != std::string::npos;
    if (hit) return m.written;
  }
  return std::nullopt;
}

std::string describe(const agentproto::HealthcheckSpec& check, const std::string& host) {
  switch (check.kind) {
    case agentproto::HealthcheckKind::Tcp: return "tcp " + host + ":" + std::to_string(check.port);
    case agentproto::HealthcheckKind::Http: return "http GET " + host + ":" + std::to_string(check.port) + check.path;
    case agentproto::HealthcheckKind::Exec: break;
  }
  std::string text = "exec";
  for (const auto& a : check.command) text += " " + a;
  return text;
}

std::string probe(const agentproto::HealthcheckSpec& check, const std::string& host, const std::filesystem::path& root) {
  auto timeout = std::chrono::milliseconds(std::max<std::uint64_t>(check.timeout_ms, 1));
  if (check.kind == agentproto::HealthcheckKind::Exec) return probe_exec(check, root, timeout);
  if (check.kind == agentproto::HealthcheckKind::Http) return probe_http(check, host, timeout);
  std::string why;
  return connect_tcp(host, check.port, timeout, why) ? "" : why;
}

ReadinessWatch::ReadinessWatch(RuntimeDriver& driver, InstanceHandle handle, const agentproto::ResolvedWorkload& w,
                               std::filesystem::path root)
    : driver_(driver), handle_(std::move(handle)), done_(w.startup.done), check_(w.healthcheck), root_(std::move(root)) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ReadinessWatch::~ReadinessWatch() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

std::optional<Readiness> ReadinessWatch::ready() const {
  std::lock_guard lock(mutex_);
  return ready_;
}

std::string ReadinessWatch::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

void ReadinessWatch::mark(std::string reason) {
  std::lock_guard lock(mutex_);
  ready_ = Readiness{unix_ms(), std::move(reason)};
}

void ReadinessWatch::run(std::stop_token stop) {
  if (done_.empty() && !check_) return mark("running (no done marker or health check)");
  std::unique_ptr<Console> console;
  if (!done_.empty()) {
    try {
      console = driver_.attach(handle_, 0);  // from the first line: a marker printed before the watch counts
    } catch (const RuntimeError&) {
      // ended already; the health check (if any) still decides
    }
  }
  const std::string host = "127.0.0.1";
  auto next_probe = Clock::now();
  while (!stop.stop_requested()) {
    if (check_ && Clock::now() >= next_probe) {
      auto why = probe(*check_, host, root_);
      if (why.empty()) return mark("health check " + describe(*check_, host) + " passed");
      std::lock_guard lock(mutex_);
      last_failure_ = "health check " + describe(*check_, host) + ": " + why;
      next_probe = Clock::now() + std::chrono::milliseconds(check_->interval_ms);
    }
    if (console && !console->ended()) {
      auto line = console->next(kConsoleWait);
      if (!line || std::string_view(line->text).starts_with(kAgentNotice)) continue;
      if (auto marker = done_.match(line->text)) return mark("done line '" + *marker + "' seen");
    } else if (!check_) {
      return;  // the output ended without a marker: the instance ended, which the reconciler sees
    } else {
      std::this_thread::sleep_for(std::min(kConsoleWait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             next_probe - Clock::now() + std::chrono::milliseconds(1))));
    }
  }
}

}  // namespace agent
