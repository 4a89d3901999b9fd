#pragma once
// The agent <-> API protocol, version 1 (docs/decisions/0022-agent-protocol-messages.md):
// every document the two sides exchange as a typed record. Each top-level document carries
// `"v": 1`; readers refuse another version, unknown fields and wrong types, naming the field.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace agentproto {

inline constexpr int kVersion = 1;

// A document that is not a valid protocol message; `field()` is the path of the culprit
// ("heartbeat.instances[0].state"), what() is "<field>: <why>".
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(std::string field, const std::string& why);
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// --- registration: POST /v1/agent/register ------------------------------------------------
struct RegisterRequest {
  std::string token;  // the one-time register token
  std::string hostname, os, arch;
  std::uint32_t cpu_count = 0;
  std::uint64_t memory_bytes = 0, disk_bytes = 0;
  std::string agent_version;
  std::vector<std::string> drivers;  // "process", "docker"
};

struct RegisterResponse {
  std::string node_id;
  std::string agent_token;  // sent as X-Agent-Token from now on
  std::uint32_t heartbeat_interval_s = 10;
};

// --- heartbeat: POST /v1/agent/heartbeat ----------------------------------------------------
struct CpuMetrics {
  double usage = 0;  // busy share of all cores, 0..1
  std::uint32_t cores = 0;
};
struct MemoryMetrics {
  std::uint64_t total_bytes = 0, available_bytes = 0, used_bytes = 0;
};
struct DiskMetrics {
  std::string path;
  std::uint64_t total_bytes = 0, free_bytes = 0, used_bytes = 0;
};
struct NetworkMetrics {
  std::uint64_t rx_bytes = 0, tx_bytes = 0;  // loopback excluded
};
struct LoadMetrics {
  double one = 0, five = 0, fifteen = 0;
};
struct NodeMetrics {
  CpuMetrics cpu;
  MemoryMetrics memory;
  DiskMetrics disk;
  NetworkMetrics network;
  LoadMetrics load;
};

// The instance states of the runtime spec; an agent reports the ones it observes.
enum class InstanceState {
  Creating, Installing, InstallFailed, Starting, Running, Stopping, Stopped, Crashed, Error, Migrating, Deleting
};
const char* to_string(InstanceState state);

struct InstanceStats {
  double cpu_seconds = 0;
  std::uint64_t memory_bytes = 0, memory_limit_bytes = 0, pids = 0;
  std::uint64_t rx_bytes = 0, tx_bytes = 0;
  std::uint64_t uptime_ms = 0;
  std::optional<std::uint64_t> disk_bytes;  // the instance root's allocated bytes, when measured
};

struct InstanceReport {
  std::string id;
  InstanceState state = InstanceState::Stopped;
  std::optional<int> exit_code;  // after an exit
  InstanceStats stats;
};

struct Heartbeat {
  NodeMetrics metrics;
  std::vector<InstanceReport> instances;
  std::uint64_t desired_version = 0;  // the desired state the agent has applied
};

struct HeartbeatResponse {
  std::uint64_t desired_version = 0;  // the API's current one (newer: poll now)
  std::uint32_t heartbeat_interval_s = 10;
};

// --- desired state: GET /v1/agent/desired?since=V (long-poll) --------------------------------
enum class PowerState { Running, Stopped, Deleted };
const char* to_string(PowerState state);

struct ResourceLimits {
  double cpu = 0;  // cores; 0 = unlimited
  std::uint64_t memory_bytes = 0, pids = 0, open_files = 0;
};

// How to stop: a console command, else a signal (by name: "SIGINT"); SIGTERM at timeout_ms.
// SIGKILL follows kill_after_ms after the SIGTERM (optional on the wire: 10 s).
struct StopSpec {
  std::string command;
  std::string signal = "SIGTERM";
  std::uint64_t timeout_ms = 30000;
  std::uint64_t kill_after_ms = 10000;
};

struct StartupSpec {
  std::vector<std::string> done;  // substrings, or "regex:<re>"
  std::uint64_t timeout_ms = 0;   // 0 = no limit
};

struct InstallSpec {
  std::string image, entrypoint, script;
};

// The restart policy the agent applies to a crashed instance (decision 0027): at most
// `attempts` restarts per `interval_ms`, the n-th consecutive one after delay_ms * backoff^n.
// Absent on the wire: never.
enum class RestartMode { Never, OnFailure, Always };
const char* to_string(RestartMode mode);
struct RestartSpec {
  RestartMode mode = RestartMode::Never;
  std::uint32_t attempts = 3;
  std::uint64_t interval_ms = 600000, delay_ms = 5000;
  double backoff = 2.0;
};

// Ready when the check passes: `tcp` (127.0.0.1:port accepts), `http` (GET path answers
// 2xx or 3xx) or `exec` (command exits 0, run in the instance root).
enum class HealthcheckKind { Tcp, Http, Exec };
const char* to_string(HealthcheckKind kind);
struct HealthcheckSpec {
  HealthcheckKind kind = HealthcheckKind::Tcp;
  std::uint32_t port = 0;     // tcp, http
  std::string path = "/";     // http
  std::vector<std::string> command;  // exec
  std::uint64_t interval_ms = 5000, timeout_ms = 2000;
};

// A configuration file the agent rewrites in the instance root before each start, values
// resolved (libs/workload's parsers: file, properties, ini, json, yaml, xml).
struct ConfigReplacement {
  std::string match;
  std::optional<std::string> if_value;
  std::string value;
};
struct ConfigFileSpec {
  std::string path;    // relative to the instance root
  std::string parser;  // "file", "properties", "ini", "json", "yaml", "xml"
  std::vector<ConfigReplacement> replace;
};

// A workload resolved for one instance (variables substituted, nothing left to look up).
struct ResolvedWorkload {
  std::string image;  // docker only
  std::vector<std::string> command, args;
  std::map<std::string, std::string> env;
  std::string working_dir;
  ResourceLimits limits;
  StopSpec stop;
  StartupSpec startup;
  std::optional<InstallSpec> install;
  bool read_only_root = true;
  RestartSpec restart;                       // optional on the wire
  std::optional<HealthcheckSpec> healthcheck;
  std::vector<ConfigFileSpec> config_files;  // optional on the wire
};

struct DesiredInstance {
  std::string id;  // [A-Za-z0-9_-]{1,64}
  PowerState power = PowerState::Stopped;
  ResolvedWorkload workload;
  // Power actions as generations that only grow (decision 0027): a higher restart generation
  // = stop sequence, then start; a higher kill generation = SIGKILL at once. Optional: 0.
  std::uint64_t restart_generation = 0, kill_generation = 0;
};

struct DesiredState {
  std::uint64_t version = 0;
  std::vector<DesiredInstance> instances;
};

// The ETag of a desired-state version ("\"7\""), and the version an If-None-Match names.
std::string desired_etag(std::uint64_t version);
std::optional<std::uint64_t> version_from_etag(const std::string& etag);

// --- events: POST /v1/agent/events -----------------------------------------------------------
enum class EventKind { Transition, Crash, Install };
const char* to_string(EventKind kind);

struct InstanceEvent {
  std::string instance_id;
  EventKind kind = EventKind::Transition;
  std::string at;  // RFC 3339
  std::optional<InstanceState> from;
  InstanceState to = InstanceState::Stopped;
  std::string reason;
  std::optional<int> exit_code;
  std::optional<int> signal;  // crash: the signal that ended it
  bool oom_killed = false;
  std::vector<std::string> last_lines;  // crash: the last lines of output; install: its log
  std::optional<bool> install_succeeded;
};

struct EventBatch {
  std::vector<InstanceEvent> events;
};

// --- tunnel: GET /v1/agent/tunnel, one WebSocket, JSON text frames -----------------------------
// container_logs: a container's output on a docker node (lines as "container output").
enum class ChannelKind { Console, Logs, Terminal, ContainerLogs };
const char* to_string(ChannelKind kind);

// API -> agent: open a channel (user stream) with `window_bytes` of send credit.
struct OpenChannel {
  std::uint64_t channel = 0;
  ChannelKind kind = ChannelKind::Console;
  std::string instance_id;              // console, logs
  std::optional<std::uint64_t> since_seq;  // replay from this sequence number
  std::uint32_t cols = 80, rows = 24;   // terminal
  std::uint64_t window_bytes = 1 << 20;
  // container_logs (optional on the wire): the engine's container, its last `tail` lines (absent:
  // all), then live output while `follow`.
  std::string container_id;
  std::optional<std::uint64_t> tail;
  bool follow = false;
};

// Either way: one event of a channel, in the frame shape of the console WebSocket.
struct ChannelData {
  std::uint64_t channel = 0;
  std::string event;       // "console output", "send command", "terminal input" ...
  boost::json::array args;  // real JSON values (an object for stats), never JSON inside strings
  std::optional<std::uint64_t> seq;
};

// The receiver grants `bytes` more of send credit (flow control).
struct ChannelCredit {
  std::uint64_t channel = 0;
  std::uint64_t bytes = 0;
};

struct CloseChannel {
  std::uint64_t channel = 0;
  std::string reason;  // empty = normal end
};

enum class RequestKind { Inventory, ContainerStart, ContainerStop, ContainerRestart, ContainerKill, ProcessKill, GitSync };
const char* to_string(RequestKind kind);

// Which processes a process_kill may reach. The agent checks the pid itself: `instances` (the
// default, also when absent on the wire) admits only processes of the instances it runs;
// `any` is sent by the API only for a caller holding nodes.terminal.
enum class ProcessScope { Instances, Any };
const char* to_string(ProcessScope scope);

// How a git_sync reaches its repository: anonymously, with a token (an HTTP Authorization
// header) or with an SSH private key.
enum class GitAuth { None, Token, SshKey };
const char* to_string(GitAuth auth);

// A git_sync: clone the repository's branch into `target` (relative to the instance root,
// no `..`; empty = the root) on the first sync, then fetch and reset hard to the branch's head.
// `secret` is the token or the private key; it never reaches a command line or a URL.
struct GitSyncSpec {
  std::string instance_id;
  std::string repository;  // https://, http://, ssh://, git:// or user@host:path
  std::string branch;
  std::string target;
  GitAuth auth = GitAuth::None;
  std::string secret;
  std::uint32_t timeout_s = 300;  // 1 to 3600
};
// A repository URL a git_sync may name, a branch name git accepts, a confined relative path.
bool valid_git_repository(std::string_view url);
bool valid_git_branch(std::string_view branch);
bool valid_git_target(std::string_view target);

// API -> agent: a request answered once: inventory; a container action through the docker
// driver (container_id; stop and restart wait timeout_s, kill sends `signal`); a process kill
// (pid, signal, scope); a git sync (git). The fields a kind does not use are absent on the wire.
struct TunnelRequest {
  std::string id;
  RequestKind kind = RequestKind::Inventory;
  std::vector<std::string> sections;  // inventory; empty = all
  std::string container_id;           // container_*: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}
  std::optional<std::uint64_t> pid;   // process_kill
  std::string signal;                 // container_kill, process_kill: "SIGKILL" when empty
  std::optional<std::uint32_t> timeout_s;  // container_stop, container_restart: the engine's default when absent
  ProcessScope scope = ProcessScope::Instances;
  std::optional<GitSyncSpec> git;  // git_sync
};

// A container id or name as the engine takes it in a path: nothing that could change the path.
bool valid_container_ref(std::string_view ref);
// The signals a kill may name: SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGKILL, SIGUSR1, SIGUSR2,
// SIGTERM, SIGCONT, SIGSTOP, SIGWINCH.
bool known_signal(std::string_view name);

struct TunnelResponse {
  std::string id;
  std::optional<boost::json::object> body;  // success
  std::string error_code, error_message;    // failure (no body)
};

}  // namespace agentproto
