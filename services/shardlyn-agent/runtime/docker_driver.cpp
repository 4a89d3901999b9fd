#include "runtime/docker_driver.hpp"

#include <poll.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <csignal>
#include <cstring>
#include <thread>
#include <utility>

#include "common/clock.hpp"
#include "runtime/detached.hpp"
#include "runtime/docker_stream.hpp"
#include "runtime/output_ring.hpp"
#include "runtime/stdin_holder.hpp"
#include "runtime/stop_sequence.hpp"

namespace agent {

namespace {

std::string container_name(const std::string& instance_id) { return "shardlyn-" + instance_id; }

std::string engine_message(const DockerReply& reply) {
  boost::system::error_code ec;
  auto v = boost::json::parse(reply.body, ec);
  if (!ec && v.is_object())
    if (auto* m = v.as_object().if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  return reply.body.substr(0, 200);
}

// Output lines of a multiplexed byte stream, numbered from 1 at the container's first line.
class LineCutter {
 public:
  std::vector<OutputLine> feed(std::string_view bytes) {
    std::vector<OutputLine> lines;
    for (auto& frame : demux_.feed(bytes))
      for (auto& l : ring_.feed(frame.data)) lines.push_back(std::move(l));
    return lines;
  }
  std::vector<OutputLine> flush() { return ring_.flush(); }

 private:
  FrameDemuxer demux_;
  OutputRing ring_{1};
};

class LogConsole : public Console {
 public:
  LogConsole(DockerStream stream, std::uint64_t since) : stream_(std::move(stream)), since_(since) {
    take(std::exchange(stream_.pending, {}));
  }
  std::optional<OutputLine> next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ready_.empty() && !ended_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{stream_.socket.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[16384];
      ssize_t n = ::read(stream_.socket.get(), chunk, sizeof chunk);
      if (n <= 0) {
        ended_ = true;
        for (auto& l : cutter_.flush()) keep(std::move(l));
        break;
      }
      take(std::string(chunk, static_cast<std::size_t>(n)));
    }
    if (ready_.empty()) return std::nullopt;
    auto line = std::move(ready_.front());
    ready_.erase(ready_.begin());
    return line;
  }
  bool ended() const override { return ended_ && ready_.empty(); }

 private:
  void take(const std::string& bytes) {
    std::string payload;
    if (stream_.chunked) dechunk_.feed(bytes, payload);
    else payload = bytes;
    for (auto& l : cutter_.feed(payload)) keep(std::move(l));
    if (dechunk_.finished()) ended_ = true;
  }
  void keep(OutputLine line) {
    if (line.seq > since_) ready_.push_back(std::move(line));
  }
  DockerStream stream_;
  std::uint64_t since_;
  ChunkDecoder dechunk_;
  LineCutter cutter_;
  std::vector<OutputLine> ready_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<Console> log_console(DockerStream stream, std::uint64_t since_seq) {
  return std::make_unique<LogConsole>(std::move(stream), since_seq);
}

boost::json::object container_spec(const Workload& w, const std::filesystem::path& root) {
  boost::json::array cmd, env;
  for (const auto& c : w.command) cmd.emplace_back(c);
  for (const auto& a : w.args) cmd.emplace_back(a);
  for (const auto& [k, v] : w.env) env.emplace_back(k + "=" + v);
  boost::json::object host{
      {"Binds", boost::json::array{root.string() + ":" + w.mount_path}},
      {"ReadonlyRootfs", w.read_only_root},
      {"SecurityOpt", boost::json::array{"no-new-privileges"}},
      {"CapDrop", boost::json::array{"ALL"}},
  };
  if (w.read_only_root) host["Tmpfs"] = boost::json::object{{"/tmp", "rw,nosuid,nodev,size=100m"}};
  if (w.limits.memory_bytes) host["Memory"] = w.limits.memory_bytes;
  if (w.limits.cpu > 0) host["NanoCpus"] = static_cast<std::int64_t>(w.limits.cpu * 1e9);
  if (w.limits.pids) host["PidsLimit"] = w.limits.pids;
  // No Ulimits: with any ulimit given, Podman adds an RLIMIT_NPROC default above what such nodes
  // allow and the start fails; the open-files limit is the engine's default for now.
  boost::json::object spec{
      {"Image", w.image},
      {"Env", std::move(env)},
      {"WorkingDir", w.working_dir.empty() ? w.mount_path : (std::filesystem::path(w.mount_path) / w.working_dir).string()},
      {"Labels", {{kInstanceLabel, w.instance_id}}},
      {"OpenStdin", true},
      {"StdinOnce", false},
      {"AttachStdin", true},
      {"AttachStdout", true},
      {"AttachStderr", true},
      {"Tty", false},
      {"StopSignal", "SIGTERM"},
      {"HostConfig", std::move(host)},
  };
  if (!cmd.empty()) spec["Cmd"] = std::move(cmd);
  return spec;
}

DockerDriver::DockerDriver(std::string socket_path, std::filesystem::path instances, std::filesystem::path holders,
                           std::filesystem::path agent_binary)
    : socket_path_(socket_path),
      api_(std::move(socket_path)),
      containers_(api_),
      instances_(std::move(instances)),
      holders_(std::move(holders)),
      agent_binary_(std::move(agent_binary)) {
  std::filesystem::create_directories(instances_);
  std::filesystem::create_directories(holders_);
}

Fd DockerDriver::stdin_holder(const InstanceHandle& instance) {
  auto dir = holders_ / instance.ref;
  if (Fd fd = connect_unix(dir, stdin_holder_files::kSocket)) return fd;
  spawn_detached({agent_binary_.string(), "hold-stdin", socket_path_, instance.ref, dir.string()});
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (Fd fd = connect_unix(dir, stdin_holder_files::kSocket)) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw RuntimeError("instance " + instance.instance_id + " does not take console input (no stdin attach)");
}

void DockerDriver::post(const std::string& target, const char* what, std::chrono::milliseconds timeout) {
  auto reply = api_.call("POST", target, {}, timeout);
  if (reply.status >= 300 && reply.status != 304)
    throw RuntimeError(std::string(what) + ": the engine answered " + std::to_string(reply.status) + ": " +
                       engine_message(reply));
}

InstanceHandle DockerDriver::start(const Workload& w) {
  check_instance_id(w.instance_id);
  if (w.image.empty()) throw RuntimeError("workload: the docker driver needs an image");
  auto root = instances_ / w.instance_id;
  std::filesystem::create_directories(root);
  auto name = container_name(w.instance_id);
  // A container of an earlier run of this instance is replaced, as a fresh start expects.
  api_.call("DELETE", "/containers/" + name + "?force=1");
  auto reply = api_.call("POST", "/containers/create?name=" + name, boost::json::serialize(container_spec(w, root)));
  if (reply.status != 201)
    throw RuntimeError("create container: the engine answered " + std::to_string(reply.status) + ": " +
                       engine_message(reply));
  std::string id(boost::json::parse(reply.body).at("Id").as_string());
  post("/containers/" + id + "/start", "start container");
  {
    std::lock_guard lock(mutex_);
    stopping_.erase(id);
  }
  InstanceHandle handle{w.instance_id, this->name(), id};
  // Podman refuses an attach before start (409); the holder attaches now, so the stdin is held
  // from the first moment and outlives this agent.
  try {
    if (w.console_input) stdin_holder(handle);
  } catch (const RuntimeError&) {
    // A workload that ended at once takes no input; send_input tries again when asked.
  }
  return handle;
}

std::vector<InstanceHandle> DockerDriver::recover() {
  auto filters = query_escape(R"({"label":[")" + std::string(kInstanceLabel) + R"("]})");
  auto reply = api_.call("GET", "/containers/json?all=1&filters=" + filters);
  if (reply.status != 200) throw RuntimeError("list containers: the engine answered " + std::to_string(reply.status));
  std::vector<InstanceHandle> found;
  auto containers = boost::json::parse(reply.body);
  for (const auto& c : containers.as_array()) {
    const auto& o = c.as_object();
    const auto* labels = o.if_contains("Labels");
    if (!labels || !labels->is_object()) continue;
    const auto* id = labels->as_object().if_contains(kInstanceLabel);
    if (!id || !id->is_string()) continue;
    found.push_back({std::string(id->as_string()), name(), std::string(o.at("Id").as_string())});
  }
  return found;
}

boost::json::object DockerDriver::inspect_json(const InstanceHandle& instance) {
  auto reply = api_.call("GET", "/containers/" + instance.ref + "/json");
  if (reply.status == 404) return {};
  if (reply.status != 200) throw RuntimeError("inspect container: the engine answered " + std::to_string(reply.status));
  boost::system::error_code ec;
  auto parsed = boost::json::parse(reply.body, ec);
  if (ec || !parsed.is_object()) throw RuntimeError("inspect container: not a JSON object from the engine");
  return parsed.as_object();
}

Observed DockerDriver::inspect(const InstanceHandle& instance) {
  Observed o;
  auto info = inspect_json(instance);
  if (info.empty()) return o;
  const auto& state = info.at("State").as_object();
  std::string status(state.at("Status").as_string());
  if (state.at("Running").as_bool()) {
    o.state = RunState::Running;
    o.pid = boost::json::value_to<int>(state.at("Pid"));
  } else if (status == "created" || status == "configured") {
    o.state = RunState::Created;
  } else {
    o.state = RunState::Exited;
    ExitStatus exit;
    exit.code = boost::json::value_to<int>(state.at("ExitCode"));
    exit.oom_killed = state.at("OOMKilled").as_bool();
    if (exit.code > 128 && exit.code < 128 + 65) exit.signal = exit.code - 128;
    std::lock_guard lock(mutex_);
    exit.stop_requested = stopping_.count(instance.ref) > 0;
    o.exit = exit;
  }
  if (auto* started = state.if_contains("StartedAt"); started && started->is_string()) {
    auto text = std::string(started->as_string()).substr(0, 19) + "Z";  // seconds are enough here
    if (auto s = common::parse_rfc3339(text); s && *s > 0) o.started_at_unix_ms = *s * 1000;
  }
  return o;
}

void DockerDriver::send_input(const InstanceHandle& instance, const std::string& line) {
  if (inspect(instance).state != RunState::Running)
    throw RuntimeError("instance " + instance.instance_id + " does not take console input (not running)");
  Fd holder = stdin_holder(instance);
  if (!write_all(holder.get(), line + "\n"))
    throw RuntimeError("instance " + instance.instance_id + " does not take console input");
}

bool DockerDriver::wait_not_running(const InstanceHandle& instance, std::chrono::steady_clock::time_point until) {
  for (;;) {
    if (inspect(instance).state != RunState::Running) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The sequence of the spec, run here (the engine's own stop knows no console command): command
// or signal; SIGTERM at the timeout; SIGKILL after kill_after.
std::optional<ExitStatus> DockerDriver::stop(const InstanceHandle& instance, const StopPolicy& policy,
                                             std::chrono::milliseconds deadline, const StopProgress& progress) {
  auto until = std::chrono::steady_clock::now() + deadline;
  {
    std::lock_guard lock(mutex_);
    stopping_.insert(instance.ref);
  }
  StopSequence sequence(policy);
  auto perform = [&](const StopAction& action) {
    try {
      if (action.kind == StopAction::Kind::Input) send_input(instance, action.input);
      else kill(instance, action.signal);
    } catch (const RuntimeError&) {
      // no console (or the container just ended): the next step follows at its time
    }
    if (progress) progress(action.note);
  };
  if (inspect(instance).state == RunState::Running) {
    perform(sequence.begin(std::chrono::steady_clock::now()));
    for (auto next = sequence.deadline(); next && !wait_not_running(instance, std::min(until, *next));
         next = sequence.deadline()) {
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      if (auto action = sequence.advance(std::chrono::steady_clock::now())) perform(*action);
    }
  }
  if (!wait_not_running(instance, until)) return std::nullopt;
  return inspect(instance).exit;
}

void DockerDriver::kill(const InstanceHandle& instance, int signal) {
  {
    std::lock_guard lock(mutex_);
    stopping_.insert(instance.ref);
  }
  post("/containers/" + instance.ref + "/kill?signal=" + std::to_string(signal), "kill container");
}

std::vector<OutputLine> DockerDriver::logs(const InstanceHandle& instance, std::size_t tail) {
  auto reply = api_.call("GET", "/containers/" + instance.ref + "/logs?stdout=1&stderr=1");
  if (reply.status != 200) throw RuntimeError("container logs: the engine answered " + std::to_string(reply.status));
  LineCutter cutter;
  auto lines = cutter.feed(reply.body);
  for (auto& l : cutter.flush()) lines.push_back(std::move(l));
  if (lines.size() > tail) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(tail));
  return lines;
}

std::unique_ptr<Console> DockerDriver::attach(const InstanceHandle& instance, std::uint64_t since_seq) {
  return log_console(api_.stream_logs(instance.ref, true), since_seq);
}

Stats DockerDriver::stats(const InstanceHandle& instance) {
  auto reply = api_.call("GET", "/containers/" + instance.ref + "/stats?stream=false");
  if (reply.status != 200) throw RuntimeError("container stats: the engine answered " + std::to_string(reply.status));
  // Podman answers 200 with no body for a container that is not running (any more).
  boost::system::error_code ec;
  auto parsed = boost::json::parse(reply.body, ec);
  if (ec || !parsed.is_object()) throw RuntimeError("container stats: no numbers (the container is not running)");
  const auto& v = parsed.as_object();
  auto number = [](const boost::json::value* p) -> double { return p && p->is_number() ? p->to_number<double>() : 0.0; };
  Stats s;
  if (auto* cpu = v.if_contains("cpu_stats"))
    s.cpu_seconds = number(cpu->as_object().at("cpu_usage").as_object().if_contains("total_usage")) / 1e9;
  if (auto* mem = v.if_contains("memory_stats"); mem && mem->is_object()) {
    s.memory_bytes = static_cast<std::uint64_t>(number(mem->as_object().if_contains("usage")));
    s.memory_limit_bytes = static_cast<std::uint64_t>(number(mem->as_object().if_contains("limit")));
  }
  if (auto* pids = v.if_contains("pids_stats"); pids && pids->is_object())
    s.pids = static_cast<std::uint64_t>(number(pids->as_object().if_contains("current")));
  if (auto* nets = v.if_contains("networks"); nets && nets->is_object())
    for (const auto& [name, n] : nets->as_object()) {
      s.rx_bytes += static_cast<std::uint64_t>(number(n.as_object().if_contains("rx_bytes")));
      s.tx_bytes += static_cast<std::uint64_t>(number(n.as_object().if_contains("tx_bytes")));
    }
  return s;
}

ContainerEngine* DockerDriver::engine() { return &containers_; }

void DockerDriver::remove(const InstanceHandle& instance) {
  {
    std::lock_guard lock(mutex_);
    stopping_.erase(instance.ref);
  }
  auto reply = api_.call("DELETE", "/containers/" + instance.ref + "?force=1&v=1");
  std::error_code ec;
  std::filesystem::remove_all(holders_ / instance.ref, ec);  // its holder ends with the attach
  if (reply.status != 204 && reply.status != 404 && reply.status != 200)
    throw RuntimeError("remove container: the engine answered " + std::to_string(reply.status) + ": " +
                       engine_message(reply));
}

}  // namespace agent
