#pragma once
// The runtime driver interface: how the agent runs one instance's workload, whatever runs it
// (a supervised process or a container). Everything is a typed record; no driver type leaks.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agent {

// Limits of one instance; 0 = unlimited.
struct Limits {
  double cpu = 0;                 // cores (1.5 = one and a half)
  std::uint64_t memory_bytes = 0;
  std::uint64_t pids = 0;
  std::uint64_t open_files = 0;
};

// How an instance is asked to stop: a console command or a signal first; then SIGTERM when
// `timeout` passed; then SIGKILL when `kill_after` more passed.
struct StopPolicy {
  std::string command;  // written to stdin with a newline; empty = use `signal`
  int signal = 15;      // SIGTERM unless the workload names another
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds kill_after{10000};
};

// A workload resolved for one instance: variables substituted, nothing left to look up.
struct Workload {
  std::string instance_id;  // [A-Za-z0-9_-], names its root DATA_DIR/instances/<id>/
  std::string image;        // docker only
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string working_dir;  // relative to the instance root (process) or in the image (docker)
  Limits limits;
  StopPolicy stop;
  bool read_only_root = true;  // docker: read-only image with a tmpfs /tmp unless the workload needs writes
  std::string mount_path = "/home/container";  // docker: where the instance root is mounted
  bool console_input = true;                   // false: nothing will be written to its stdin (install runs)
};

// What a driver returns for a started instance and finds again after an agent restart.
struct InstanceHandle {
  std::string instance_id;
  std::string driver;  // "process" or "docker"
  std::string ref;     // supervisor socket path, or container id
};

enum class RunState { Created, Running, Exited, Missing };
const char* to_string(RunState state);

struct ExitStatus {
  int code = 0;                // exit code; 128 + signal when a signal ended it
  std::optional<int> signal;   // the signal that ended it
  bool oom_killed = false;     // where the runtime knows
  bool stop_requested = false; // ended by a stop or kill the agent asked for
};

struct Observed {
  RunState state = RunState::Missing;
  std::optional<int> pid;                 // the workload's main process on the node
  std::optional<ExitStatus> exit;         // set when Exited
  std::int64_t started_at_unix_ms = 0;    // 0 when never started
};

struct Stats {
  double cpu_seconds = 0;         // CPU time used so far (user + system)
  std::uint64_t memory_bytes = 0; // resident memory
  std::uint64_t memory_limit_bytes = 0;
  std::uint64_t pids = 0;
  std::uint64_t rx_bytes = 0, tx_bytes = 0;  // docker; the process driver shares the node's network
};

// One line of console output with its per-instance sequence number.
struct OutputLine {
  std::uint64_t seq = 0;
  std::string text;
};

// A live console: output as it comes (after replaying from a sequence number) and input.
class Console {
 public:
  virtual ~Console() = default;
  // The next line, or nullopt when none came within `timeout` or the instance ended (see ended()).
  virtual std::optional<OutputLine> next(std::chrono::milliseconds timeout) = 0;
  virtual bool ended() const = 0;
};

class ContainerEngine;  // runtime/container_engine.hpp

// A runtime failure the caller can show: what was attempted and why it failed.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Called with each step of a stop sequence as it is taken ("stop: sent SIGTERM ...").
using StopProgress = std::function<void(const std::string& step)>;

class RuntimeDriver {
 public:
  virtual ~RuntimeDriver() = default;
  virtual const char* name() const = 0;
  // Creates and starts the instance; the instance root must exist.
  virtual InstanceHandle start(const Workload& workload) = 0;
  // The instances this driver runs on the node, found again after an agent restart.
  virtual std::vector<InstanceHandle> recover() = 0;
  virtual Observed inspect(const InstanceHandle& instance) = 0;
  virtual void send_input(const InstanceHandle& instance, const std::string& line) = 0;
  // Runs the stop sequence of the policy and returns once the instance ended (or `deadline`
  // passed, when the instance is still stopping: nullopt). `progress` hears every step.
  virtual std::optional<ExitStatus> stop(const InstanceHandle& instance, const StopPolicy& policy,
                                         std::chrono::milliseconds deadline, const StopProgress& progress = {}) = 0;
  virtual void kill(const InstanceHandle& instance, int signal) = 0;
  // The last `tail` lines (replay for a console that reconnects).
  virtual std::vector<OutputLine> logs(const InstanceHandle& instance, std::size_t tail) = 0;
  virtual std::unique_ptr<Console> attach(const InstanceHandle& instance, std::uint64_t since_seq) = 0;
  virtual Stats stats(const InstanceHandle& instance) = 0;
  // Removes an ended instance's runtime objects (the instance root stays).
  virtual void remove(const InstanceHandle& instance) = 0;
  // The node's container engine, when this driver has one (docker); null otherwise.
  virtual ContainerEngine* engine() { return nullptr; }
};

// Refuses ids that could name something outside DATA_DIR/instances.
void check_instance_id(const std::string& id);

}  // namespace agent
