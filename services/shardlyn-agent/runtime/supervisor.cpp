#include "runtime/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <list>

#include "common/files.hpp"
#include "runtime/output_ring.hpp"
#include "runtime/process_limits.hpp"
#include "runtime/stop_sequence.hpp"
#include "runtime/unix_socket.hpp"
#include "runtime/workload_json.hpp"

namespace agent {

namespace {

using Clock = std::chrono::steady_clock;
// A console reader (the agent) that falls this far behind the program is dropped and reattaches
// from the ring: the program is never held back, and a burst up to this size reaches the API
// whole (600 lines of 8 KB at once, say).
constexpr std::size_t kClientBufferLimit = 8 << 20;
constexpr std::uintmax_t kConsoleLogRotateBytes = 8 << 20;  // console.log -> console.log.1

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The executable for argv[0], looked up in the workload's PATH (not the supervisor's).
std::string resolve_program(const std::string& program, const std::string& path_list) {
  if (program.find('/') != std::string::npos) return program;
  std::size_t start = 0;
  while (start <= path_list.size()) {
    auto end = path_list.find(':', start);
    if (end == std::string::npos) end = path_list.size();
    auto candidate = std::filesystem::path(path_list.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return program;
}

struct Client {
  Fd fd;
  std::string in, out;
  bool attached = false;
};

class Supervisor {
 public:
  Supervisor(std::filesystem::path state_dir, std::filesystem::path root, Workload workload)
      : dir_(std::move(state_dir)), root_(std::move(root)), workload_(std::move(workload)) {}
  int run();

 private:
  void spawn();
  void exec_child(int stdin_fd, int output_fd, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env);
  void write_state();
  int poll_timeout_ms() const;
  void accept_client();
  bool read_client(Client& c);
  bool flush_client(Client& c);
  void handle(Client& c, const boost::json::object& request);
  void read_output();
  void emit(const std::vector<OutputLine>& lines);
  void notice(const std::string& text) { emit({ring_.add("[shardlyn] " + text)}); }
  void send(Client& c, const boost::json::object& message);
  void begin_stop(const StopPolicy& policy);
  void advance_stop();
  void perform(const StopAction& action);
  void finish(int wait_status);

  std::filesystem::path dir_, root_;
  Workload workload_;
  LimitPlan limits_;
  OutputRing ring_;
  Fd listen_, stdin_, output_, pidfd_, log_;
  std::list<Client> clients_;
  pid_t child_ = -1;
  std::int64_t started_at_ = 0;
  std::optional<StopSequence> stop_;
  bool stop_requested_ = false;
};

void Supervisor::exec_child(int stdin_fd, int output_fd, const std::vector<std::string>& argv,
                            const std::vector<std::string>& env) {
  ::setpgid(0, 0);  // its own group, so a stop reaches everything it started
  enter_limits(limits_, workload_.limits);
  ::dup2(stdin_fd, 0);
  ::dup2(output_fd, 1);
  ::dup2(output_fd, 2);
  for (int s : {SIGPIPE, SIGHUP, SIGINT, SIGTERM}) std::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  auto cwd = root_ / workload_.working_dir;
  if (::chdir(cwd.c_str()) != 0) {
    std::string message = "cannot enter " + cwd.string() + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, message.data(), message.size());
    ::_exit(127);
  }
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);
  ::execve(args[0], args.data(), envp.data());
  std::string message = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
  (void)!::write(2, message.data(), message.size());
  ::_exit(127);
}

void Supervisor::spawn() {
  std::map<std::string, std::string> env{{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                                         {"HOME", root_.string()}};
  for (const auto& [k, v] : workload_.env) env[k] = v;
  std::vector<std::string> argv = workload_.command;
  argv.insert(argv.end(), workload_.args.begin(), workload_.args.end());
  if (argv.empty()) throw RuntimeError("workload: command is empty");
  argv[0] = resolve_program(argv[0], env["PATH"]);
  std::vector<std::string> env_lines;
  for (const auto& [k, v] : env) env_lines.push_back(k + "=" + v);

  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw RuntimeError("pipe failed");
  limits_ = prepare_limits(workload_.instance_id, workload_.limits);
  child_ = ::fork();
  if (child_ < 0) throw RuntimeError(std::string("fork failed: ") + std::strerror(errno));
  if (child_ == 0) exec_child(in[0], out[1], argv, env_lines);
  ::setpgid(child_, child_);  // also here: whichever runs first, the group exists before a stop
  ::close(in[0]);
  ::close(out[1]);
  stdin_ = Fd(in[1]);
  output_ = Fd(out[0]);
  ::fcntl(stdin_.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(output_.get(), F_SETFL, O_NONBLOCK);
  pidfd_ = Fd(static_cast<int>(::syscall(SYS_pidfd_open, child_, 0)));
  if (!pidfd_) throw RuntimeError(std::string("pidfd_open failed: ") + std::strerror(errno));
  started_at_ = unix_ms();
  if (!limits_.cgroup.empty()) notice("limits: cgroup " + limits_.cgroup.string());
  else notice("limits: rlimits (" + limits_.why_not_cgroup + ")");
}

void Supervisor::write_state() {
  boost::json::object state{{"supervisor_pid", ::getpid()},
                            {"pid", child_},
                            {"started_at_unix_ms", started_at_},
                            {"limits", limits_.cgroup.empty() ? "rlimit" : "cgroup"},
                            {"cgroup", limits_.cgroup.string()}};
  common::write_file_atomic(dir_ / supervisor_files::kState, boost::json::serialize(state), 0600);
}

int Supervisor::poll_timeout_ms() const {
  auto deadline = stop_ ? stop_->deadline() : std::nullopt;
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left) + 1;
}

void Supervisor::accept_client() {
  Fd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (fd) clients_.push_back(Client{std::move(fd), {}, {}, false});
}

// False when the client went away or sent something that is not a request.
bool Supervisor::read_client(Client& c) {
  char chunk[4096];
  ssize_t n = ::read(c.fd.get(), chunk, sizeof chunk);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  c.in.append(chunk, static_cast<std::size_t>(n));
  if (c.in.size() > 64 * 1024) return false;
  for (auto nl = c.in.find('\n'); nl != std::string::npos; nl = c.in.find('\n')) {
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    boost::system::error_code ec;
    auto request = boost::json::parse(line, ec);
    if (ec || !request.is_object()) {
      send(c, {{"error", "a request is one JSON object per line"}});
      continue;
    }
    handle(c, request.as_object());
  }
  return true;
}

bool Supervisor::flush_client(Client& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

void Supervisor::send(Client& c, const boost::json::object& message) {
  c.out += boost::json::serialize(message);
  c.out += '\n';
}
void Supervisor::handle(Client& c, const boost::json::object& request) {
  auto* op_value = request.if_contains("op");
  std::string op = op_value && op_value->is_string() ? std::string(op_value->as_string()) : "";
  auto int_field = [&](const char* name, std::int64_t fallback) {
    auto* v = request.if_contains(name);
    return v && v->is_int64() ? v->as_int64() : fallback;
  };
  if (op == "status") {
    send(c, {{"state", "running"},
             {"pid", child_},
             {"started_at_unix_ms", started_at_},
             {"stopping", stop_.has_value()},
             {"last_seq", ring_.last_seq()}});
  } else if (op == "input") {
    auto* line = request.if_contains("line");
    if (!line || !line->is_string()) return send(c, {{"error", "input needs a line"}});
    std::string data = std::string(line->as_string()) + "\n";
    ssize_t n = ::write(stdin_.get(), data.data(), data.size());
    if (n != static_cast<ssize_t>(data.size())) return send(c, {{"error", "the console input is not being read"}});
    send(c, {{"ok", true}});
  } else if (op == "stop") {
    StopPolicy policy{request.contains("command") && request.at("command").is_string()
                          ? std::string(request.at("command").as_string())
                          : std::string(),
                      static_cast<int>(int_field("signal", SIGTERM)),
                      std::chrono::milliseconds(int_field("timeout_ms", 30000)),
                      std::chrono::milliseconds(int_field("kill_after_ms", 10000))};
    begin_stop(policy);
    send(c, {{"ok", true}});
  } else if (op == "kill") {
    int sig = static_cast<int>(int_field("signal", SIGKILL));
    stop_requested_ = true;
    notice("kill: sent signal " + std::to_string(sig));
    ::kill(-child_, sig);
    send(c, {{"ok", true}});
  } else if (op == "logs") {
    boost::json::array lines;
    for (const auto& l : ring_.tail(static_cast<std::size_t>(int_field("tail", 100)))) lines.push_back(to_json(l));
    send(c, {{"lines", std::move(lines)}});
  } else if (op == "attach") {
    c.attached = true;
    for (const auto& l : ring_.since(static_cast<std::uint64_t>(int_field("since", 0)))) send(c, to_json(l));
  } else {
    send(c, {{"error", "unknown op '" + op + "'"}});
  }
}

void Supervisor::emit(const std::vector<OutputLine>& lines) {
  for (const auto& l : lines) {
    std::string text = l.text + "\n";
    (void)!::write(log_.get(), text.data(), text.size());
    for (auto& c : clients_)
      if (c.attached) send(c, to_json(l));
  }
  std::error_code ec;
  if (std::filesystem::file_size(dir_ / supervisor_files::kConsoleLog, ec) > kConsoleLogRotateBytes) {
    auto log = dir_ / supervisor_files::kConsoleLog;
    std::filesystem::rename(log, log.string() + ".1", ec);
    log_ = Fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  }
}

void Supervisor::read_output() {
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(output_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) output_ = Fd();  // every writer closed its end
      return;
    }
    emit(ring_.feed(std::string_view(chunk, static_cast<std::size_t>(n))));
  }
}

void Supervisor::perform(const StopAction& action) {
  if (action.kind == StopAction::Kind::Input) {
    std::string data = action.input + "\n";
    (void)!::write(stdin_.get(), data.data(), data.size());
  } else {
    ::kill(-child_, action.signal);
  }
  notice(action.note);
}

// Coalesces: a stop while stopping keeps the sequence already running.
void Supervisor::begin_stop(const StopPolicy& policy) {
  stop_requested_ = true;
  if (stop_) return;
  stop_.emplace(policy);
  perform(stop_->begin(Clock::now()));
}

void Supervisor::advance_stop() {
  if (!stop_) return;
  if (auto action = stop_->advance(Clock::now())) perform(*action);
}

void Supervisor::finish(int wait_status) {
  ::kill(-child_, SIGKILL);  // what the instance left behind in its group ends with it
  auto drain_until = Clock::now() + std::chrono::seconds(1);
  while (output_ && Clock::now() < drain_until) {
    pollfd p{output_.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) read_output();
  }
  emit(ring_.flush());
  ExitStatus exit;
  exit.stop_requested = stop_requested_;
  if (WIFSIGNALED(wait_status)) {
    exit.signal = WTERMSIG(wait_status);
    exit.code = 128 + *exit.signal;
  } else {
    exit.code = WEXITSTATUS(wait_status);
  }
  notice("exited with code " + std::to_string(exit.code));
  auto record = to_json(exit);
  record["finished_at_unix_ms"] = unix_ms();
  common::write_file_atomic(dir_ / supervisor_files::kExit, boost::json::serialize(record), 0600);
  release_limits(limits_);
  for (auto& c : clients_) {
    if (c.attached) send(c, {{"exit", to_json(exit)}});
    ::fcntl(c.fd.get(), F_SETFL, 0);  // blocking, bounded by the peer: a last flush
    timeval tv{1, 0};
    ::setsockopt(c.fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    flush_client(c);
  }
  ::unlink((dir_ / supervisor_files::kSocket).c_str());
}

int Supervisor::run() {
  log_ = Fd(::open((dir_ / supervisor_files::kConsoleLog).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  listen_ = listen_unix(dir_, supervisor_files::kSocket);
  spawn();
  write_state();
  for (;;) {
    std::vector<pollfd> fds{{listen_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}, {output_.get(), POLLIN, 0}};
    for (auto& c : clients_)
      fds.push_back({c.fd.get(), static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
    int r = ::poll(fds.data(), fds.size(), poll_timeout_ms());
    if (r < 0 && errno != EINTR) throw RuntimeError(std::string("poll failed: ") + std::strerror(errno));
    if (output_ && (fds[2].revents & (POLLIN | POLLHUP))) read_output();
    if (fds[0].revents & POLLIN) accept_client();
    std::size_t i = 3;
    for (auto it = clients_.begin(); it != clients_.end(); ++i) {
      bool keep = i >= fds.size() || ((!(fds[i].revents & (POLLIN | POLLHUP)) || read_client(*it)) && flush_client(*it) &&
                                      it->out.size() <= kClientBufferLimit);
      it = keep ? std::next(it) : clients_.erase(it);
    }
    advance_stop();
    if (fds[1].revents & POLLIN) {
      int status = 0;
      if (::waitpid(child_, &status, WNOHANG) == child_) {
        finish(status);
        return 0;
      }
    }
  }
}

}  // namespace

int supervise(const std::filesystem::path& state_dir, const std::filesystem::path& root) {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);  // the agent's terminal or session going away is not a stop
  try {
    auto workload = workload_from_json(boost::json::parse(common::read_file(state_dir / supervisor_files::kWorkload)));
    Supervisor supervisor(state_dir, root, std::move(workload));
    return supervisor.run();
  } catch (const std::exception& e) {
    boost::json::object record{{"code", 127}, {"signal", nullptr}, {"oom_killed", false}, {"stop_requested", false},
                               {"error", e.what()}};
    common::write_file_atomic(state_dir / supervisor_files::kExit, boost::json::serialize(record), 0600);
    return 1;
  }
}

}  // namespace agent
