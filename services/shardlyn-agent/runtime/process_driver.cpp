#include "runtime/process_driver.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "common/files.hpp"
#include "runtime/detached.hpp"
#include "runtime/supervisor.hpp"
#include "runtime/unix_socket.hpp"
#include "runtime/workload_json.hpp"

namespace agent {

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(5);
constexpr auto kSupervisorStartTimeout = std::chrono::seconds(10);

// One request to an instance's supervisor; throws RuntimeError when it does not answer.
boost::json::object ask(const std::filesystem::path& dir, const boost::json::object& request) {
  Fd sock = connect_unix(dir, supervisor_files::kSocket);
  if (!sock) throw RuntimeError("the supervisor of " + dir.filename().string() + " is not running");
  if (!write_all(sock.get(), boost::json::serialize(request) + "\n"))
    throw RuntimeError("the supervisor of " + dir.filename().string() + " went away");
  LineReader reader(sock.get());
  bool closed = false;
  auto line = reader.next(kRequestTimeout, closed);
  if (!line) throw RuntimeError("the supervisor of " + dir.filename().string() + " did not answer");
  auto answer = boost::json::parse(*line).as_object();
  if (auto* error = answer.if_contains("error")) throw RuntimeError(std::string(error->as_string()));
  return answer;
}

void check_working_dir(const std::string& dir) {
  std::filesystem::path p(dir);
  if (p.is_absolute()) throw RuntimeError("working directory must be relative to the instance root: " + dir);
  for (const auto& part : p)
    if (part == "..") throw RuntimeError("working directory must stay inside the instance root: " + dir);
}

class SupervisorConsole : public Console {
 public:
  explicit SupervisorConsole(Fd sock) : sock_(std::move(sock)), reader_(sock_.get()) {}
  std::optional<OutputLine> next(std::chrono::milliseconds timeout) override {
    if (ended_) return std::nullopt;
    bool closed = false;
    auto line = reader_.next(timeout, closed);
    if (closed) ended_ = true;
    if (!line) return std::nullopt;
    auto message = boost::json::parse(*line);
    if (message.as_object().contains("exit")) {
      ended_ = true;
      return std::nullopt;
    }
    return line_from_json(message);
  }
  bool ended() const override { return ended_; }

 private:
  Fd sock_;
  LineReader reader_;
  bool ended_ = false;
};

}  // namespace

ProcessDriver::ProcessDriver(std::filesystem::path instances, std::filesystem::path supervisors,
                             SupervisorCommand command)
    : instances_(std::move(instances)), supervisors_(std::move(supervisors)), command_(std::move(command)) {
  std::filesystem::create_directories(instances_);
  std::filesystem::create_directories(supervisors_);
}

void ProcessDriver::launch_supervisor(const std::string& id) {
  std::vector<std::string> args{command_.executable.string()};
  args.insert(args.end(), command_.leading_args.begin(), command_.leading_args.end());
  args.push_back(state_dir(id).string());
  args.push_back(root(id).string());
  spawn_detached(std::move(args));
}

InstanceHandle ProcessDriver::start(const Workload& workload) {
  check_instance_id(workload.instance_id);
  check_working_dir(workload.working_dir);
  if (workload.command.empty()) throw RuntimeError("workload: command is empty");
  const auto& id = workload.instance_id;
  auto dir = state_dir(id);
  if (connect_unix(dir, supervisor_files::kSocket)) throw RuntimeError("instance " + id + " is already running");
  if (auto group = orphaned_group(id))
    throw RuntimeError("instance " + id + " still runs without its supervisor (process group " +
                       std::to_string(*group) + "); kill it first");
  std::filesystem::create_directories(dir);
  std::filesystem::create_directories(root(id) / workload.working_dir);
  std::filesystem::remove(dir / supervisor_files::kState);
  std::filesystem::remove(dir / supervisor_files::kExit);
  common::write_file_atomic(dir / supervisor_files::kWorkload, boost::json::serialize(to_json(workload)), 0600);
  launch_supervisor(id);
  auto deadline = std::chrono::steady_clock::now() + kSupervisorStartTimeout;
  while (!std::filesystem::exists(dir / supervisor_files::kState) && !std::filesystem::exists(dir / supervisor_files::kExit)) {
    if (std::chrono::steady_clock::now() > deadline) throw RuntimeError("the supervisor of " + id + " did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {id, name(), (dir / supervisor_files::kSocket).string()};
}

std::vector<InstanceHandle> ProcessDriver::recover() {
  std::vector<InstanceHandle> found;
  for (const auto& entry : std::filesystem::directory_iterator(supervisors_)) {
    if (!std::filesystem::exists(entry.path() / supervisor_files::kState)) continue;
    auto id = entry.path().filename().string();
    found.push_back({id, name(), (entry.path() / supervisor_files::kSocket).string()});
  }
  return found;
}

std::optional<ExitStatus> ProcessDriver::exit_record(const std::string& id) const {
  auto file = state_dir(id) / supervisor_files::kExit;
  if (!std::filesystem::exists(file)) return std::nullopt;
  return exit_from_json(boost::json::parse(common::read_file(file)));
}

Observed ProcessDriver::inspect(const InstanceHandle& instance) {
  Observed o;
  if (auto exit = exit_record(instance.instance_id)) {
    o.state = RunState::Exited;
    o.exit = exit;
    return o;
  }
  try {
    auto status = ask(state_dir(instance.instance_id), {{"op", "status"}});
    o.state = RunState::Running;
    o.pid = boost::json::value_to<int>(status.at("pid"));
    o.started_at_unix_ms = status.at("started_at_unix_ms").as_int64();
  } catch (const RuntimeError&) {
    // The supervisor may have just written its exit record and gone.
    if (auto exit = exit_record(instance.instance_id)) o.state = RunState::Exited, o.exit = exit;
  }
  return o;
}

void ProcessDriver::send_input(const InstanceHandle& instance, const std::string& line) {
  ask(state_dir(instance.instance_id), {{"op", "input"}, {"line", line}});
}

// The supervisor runs the sequence (so it survives the agent); its notices of each step come
// back through the output, from the sequence number the stop began at.
std::optional<ExitStatus> ProcessDriver::stop(const InstanceHandle& instance, const StopPolicy& policy,
                                              std::chrono::milliseconds deadline, const StopProgress& progress) {
  if (auto exit = exit_record(instance.instance_id)) return exit;
  auto dir = state_dir(instance.instance_id);
  std::unique_ptr<Console> steps;
  if (progress) {
    auto last = ask(dir, {{"op", "status"}}).at("last_seq").to_number<std::uint64_t>();
    steps = attach(instance, last);
  }
  ask(dir, {{"op", "stop"},
            {"command", policy.command},
            {"signal", policy.signal},
            {"timeout_ms", policy.timeout.count()},
            {"kill_after_ms", policy.kill_after.count()}});
  constexpr std::string_view kStep = "[shardlyn] stop: ";
  auto relay = [&](std::chrono::milliseconds wait) {
    if (auto line = steps->next(wait); line && line->text.starts_with(kStep))
      progress(line->text.substr(kStep.size() - 6));  // from "stop: "
  };
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (auto exit = exit_record(instance.instance_id)) {
      // The last step's notice may still be on its way: the console ends after it.
      for (auto drain = std::chrono::steady_clock::now() + std::chrono::seconds(1);
           steps && !steps->ended() && std::chrono::steady_clock::now() < drain;)
        relay(std::chrono::milliseconds(20));
      return exit;
    }
    if (!steps || steps->ended()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    else relay(std::chrono::milliseconds(20));
  }
  return exit_record(instance.instance_id);
}

void ProcessDriver::kill(const InstanceHandle& instance, int signal) {
  try {
    ask(state_dir(instance.instance_id), {{"op", "kill"}, {"signal", signal}});
  } catch (const RuntimeError&) {
    auto group = orphaned_group(instance.instance_id);
    if (!group) throw;
    ::kill(-*group, signal);
  }
}

std::optional<int> ProcessDriver::orphaned_group(const std::string& id) const {
  auto state_file = state_dir(id) / supervisor_files::kState;
  if (exit_record(id) || !std::filesystem::exists(state_file)) return std::nullopt;
  int pid = 0;
  try {
    pid = boost::json::value_to<int>(boost::json::parse(common::read_file(state_file)).at("pid"));
    auto stat = parse_proc_pid_stat(common::read_file("/proc/" + std::to_string(pid) + "/stat"));
    // Still the group it led (not a reused pid), and not a zombie waiting for its reaper.
    if (!stat || stat->pgrp != pid || stat->state == 'Z') return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;  // gone, or an unreadable record
  }
  return pid;
}

std::vector<OutputLine> ProcessDriver::logs(const InstanceHandle& instance, std::size_t tail) {
  std::vector<OutputLine> lines;
  auto dir = state_dir(instance.instance_id);
  try {
    auto answer = ask(dir, {{"op", "logs"}, {"tail", tail}});
    for (const auto& l : answer.at("lines").as_array()) lines.push_back(line_from_json(l));
    return lines;
  } catch (const RuntimeError&) {
  }
  // The supervisor is gone: the last lines of its log file, numbered from 1 within the file.
  std::string text;
  try {
    text = common::read_file(dir / supervisor_files::kConsoleLog);
  } catch (const std::exception&) {
    return lines;
  }
  std::vector<std::string> all;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    all.push_back(text.substr(start, nl - start));
  for (std::size_t i = all.size() > tail ? all.size() - tail : 0; i < all.size(); ++i) lines.push_back({i + 1, all[i]});
  return lines;
}

std::unique_ptr<Console> ProcessDriver::attach(const InstanceHandle& instance, std::uint64_t since_seq) {
  Fd sock = connect_unix(state_dir(instance.instance_id), supervisor_files::kSocket);
  if (!sock) throw RuntimeError("instance " + instance.instance_id + " is not running");
  boost::json::object request{{"op", "attach"}, {"since", since_seq}};
  if (!write_all(sock.get(), boost::json::serialize(request) + "\n"))
    throw RuntimeError("instance " + instance.instance_id + " is not running");
  return std::make_unique<SupervisorConsole>(std::move(sock));
}

Stats ProcessDriver::stats(const InstanceHandle& instance) {
  auto o = inspect(instance);
  if (o.state != RunState::Running || !o.pid) return {};
  return process_group_stats("/proc", *o.pid);
}

void ProcessDriver::remove(const InstanceHandle& instance) {
  if (inspect(instance).state == RunState::Running)
    throw RuntimeError("instance " + instance.instance_id + " is still running");
  std::filesystem::remove_all(state_dir(instance.instance_id));
}

std::optional<ProcStat> parse_proc_pid_stat(std::string_view text) {
  // The command name is in parentheses and may itself hold spaces and ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> f;
  for (std::size_t i = close + 1; i < text.size();) {
    while (i < text.size() && text[i] == ' ') ++i;
    auto start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) f.push_back(text.substr(start, i - start));
    if (i < text.size() && text[i] == '\n') break;
  }
  // After ')': state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ... rss(21)
  if (f.size() < 22) return std::nullopt;
  auto num = [](std::string_view s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  };
  return ProcStat{f[0].empty() ? '?' : f[0][0], static_cast<int>(num(f[2])), static_cast<std::uint64_t>(num(f[11])),
                  static_cast<std::uint64_t>(num(f[12])), static_cast<std::uint64_t>(num(f[21])),
                  static_cast<int>(num(f[1]))};
}

Stats process_group_stats(const std::filesystem::path& proc_root, int pgid) {
  Stats s;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string text;
    try {
      text = common::read_file(entry.path() / "stat");
    } catch (const std::exception&) {
      continue;  // the process ended while we looked
    }
    auto stat = parse_proc_pid_stat(text);
    if (!stat || stat->pgrp != pgid) continue;
    s.cpu_seconds += static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
    s.memory_bytes += stat->rss_pages * page;
    ++s.pids;
  }
  return s;
}

}  // namespace agent
