#pragma once
// The `shardlyn/v1` Workload as typed records, parsed from JSON or YAML and exported back.
// Every record compares by value so that a round trip (parse -> export -> parse) is testable.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "workload/errors.hpp"
#include "workload/quantity.hpp"

namespace workload {

inline constexpr std::string_view kApiVersion = "shardlyn/v1";
inline constexpr std::string_view kKind = "Workload";

// Ordered maps keep exports stable and diffs readable.
using StringMap = std::map<std::string, std::string>;

struct Metadata {
  std::string name;
  StringMap labels;
  StringMap annotations;
  bool operator==(const Metadata&) const = default;
};

enum class Protocol { Tcp, Udp };

struct Port {
  std::string name;
  int container_port = 0;
  Protocol protocol = Protocol::Tcp;
  bool operator==(const Port&) const = default;
};

// Absent amounts are "not asked for" (requests) or "unlimited" (limits).
struct Amounts {
  std::optional<std::int64_t> cpu_millis;
  std::optional<std::int64_t> memory_bytes;
  std::optional<std::int64_t> disk_bytes;
  bool operator==(const Amounts&) const = default;
};

struct Resources {
  Amounts requests;
  Amounts limits;
  bool operator==(const Resources&) const = default;
};

enum class RestartMode { Never, OnFailure, Always };

// Nomad-style: at most `attempts` restarts per `interval`, waiting `delay` * backoff^n.
struct RestartPolicy {
  RestartMode mode = RestartMode::OnFailure;
  int attempts = 3;
  Duration interval = std::chrono::minutes(10);
  Duration delay = std::chrono::seconds(5);
  double backoff = 2.0;
  bool operator==(const RestartPolicy&) const = default;
};

// A console line containing `text` (or matching it, when written `regex:<re>`) means running.
struct DoneMarker {
  std::string text;
  bool regex = false;
  bool operator==(const DoneMarker&) const = default;
};

struct Startup {
  std::vector<DoneMarker> done;
  Duration timeout = std::chrono::minutes(5);
  bool strip_ansi = true;
  bool operator==(const Startup&) const = default;
};

// Ready when the TCP port (a port name of spec.ports or a number) accepts a connection.
struct Healthcheck {
  std::string tcp;
  Duration interval = std::chrono::seconds(5);
  Duration timeout = std::chrono::seconds(2);
  bool operator==(const Healthcheck&) const = default;
};

// Either a console command written to stdin, or a signal; neither = SIGTERM.
struct Stop {
  std::string command;
  std::string signal;  // "SIGINT", ...; see signal_number()
  bool operator==(const Stop&) const = default;
};

struct Install {
  std::string image;
  std::string entrypoint = "sh";
  std::string script;
  bool operator==(const Install&) const = default;
};

struct Variable {
  std::string name;  // what a person reads
  std::string env;   // the environment variable and the {{ENV}} placeholder
  std::string description;
  std::string default_value;
  bool user_viewable = true;
  bool user_editable = true;
  std::vector<std::string> rules;  // Laravel-style, one rule per entry: "required", "max:20"
  bool operator==(const Variable&) const = default;
};

enum class ConfigParser { File, Properties, Ini, Json, Yaml, Xml };

// Sets `match` (a key, a dotted path, or a line prefix for `file`) to `value`; with `if_value`
// only where the current value equals it.
struct Replacement {
  std::string match;
  std::optional<std::string> if_value;
  std::string value;
  bool operator==(const Replacement&) const = default;
};

struct ConfigFile {
  std::string path;  // relative to the instance root
  ConfigParser parser = ConfigParser::File;
  std::vector<Replacement> replace;
  bool operator==(const ConfigFile&) const = default;
};

struct WorkloadSpec {
  std::string image;
  std::map<std::string, std::string> images;  // label -> image: the choices an egg offers
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  StringMap env;
  std::vector<Port> ports;
  Resources resources;
  RestartPolicy restart_policy;
  Duration stop_timeout = std::chrono::seconds(30);
  Startup startup;
  std::optional<Healthcheck> healthcheck;
  Stop stop;
  std::optional<Install> install;
  std::vector<Variable> variables;
  std::vector<ConfigFile> config_files;
  std::vector<std::string> features;       // egg features (eula, java_version, ...)
  std::vector<std::string> file_denylist;  // gitignore syntax; the file API answers 403
  bool operator==(const WorkloadSpec&) const = default;
};

struct Workload {
  Metadata metadata;
  WorkloadSpec spec;
  bool operator==(const Workload&) const = default;
};

// Parses a JSON or YAML document (JSON is YAML, but JSON text goes through the JSON parser
// for exact numbers). Throws SpecError naming every bad field.
Workload parse_workload(std::string_view text);
Workload workload_from_json(const boost::json::value& document);

// Checks what a JSON Schema cannot say: unique names, references between fields, regexes that
// compile, rules that exist, limits not below requests. parse_workload() already runs it.
void check_semantics(const Workload& workload, ErrorList& errors);

boost::json::value to_json(const Workload& workload);
std::string to_json_text(const Workload& workload);
std::string to_yaml(const Workload& workload);

// Parses either format into a JSON value; SpecError{"document", ...} when neither parses.
boost::json::value parse_document(std::string_view text);

// Signal names the spec accepts (SIGINT, SIGTERM, ...) and their numbers; 0 when unknown.
int signal_number(std::string_view name);

std::string_view to_string(ConfigParser parser);
std::optional<ConfigParser> config_parser_from(std::string_view name);
std::string_view to_string(RestartMode mode);

}  // namespace workload
