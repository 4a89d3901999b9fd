#pragma once
// From a workload and what a user chose for an instance to what the agent runs: the variables
// checked against their rules, the environment, the command with {{VAR}} substituted, and the
// config-file replacements with their placeholders filled in.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "workload/spec.hpp"

namespace workload {

// What the instance's placement decides and the placeholders may refer to.
struct InstanceContext {
  std::string id;
  std::string ip = "0.0.0.0";
  int port = 0;                      // the default allocation: SERVER_PORT, {{server.port}}
  std::map<std::string, int> ports;  // port name -> host port, for {{server.ports.<name>}}
  std::int64_t memory_mib = 0;       // the memory limit, 0 = none
  std::int64_t disk_mib = 0;
  std::string node_interface = "127.0.0.1";  // the address instances reach the node on
};

// Environment names every instance gets; variables may not use them.
inline constexpr std::string_view kBuiltinEnv[] = {"SERVER_PORT", "SERVER_IP", "SERVER_MEMORY", "SERVER_UUID",
                                                   "STARTUP"};
bool is_builtin_env(std::string_view name);

// Placeholders of config-file values: {{server.port}}, {{server.ip}}, {{server.memory}},
// {{server.disk}}, {{server.id}}, {{server.ports.<name>}}, {{env.<NAME>}}, {{node.interface}}.
bool is_config_placeholder(std::string_view name, const WorkloadSpec& spec);
// Names between {{ and }} in `text`, trimmed, in order.
std::vector<std::string> placeholders(std::string_view text);

struct ResolvedConfigFile {
  std::string path;
  ConfigParser parser = ConfigParser::File;
  std::vector<Replacement> replace;  // values with every placeholder filled in
  bool operator==(const ResolvedConfigFile&) const = default;
};

struct ResolvedWorkload {
  std::map<std::string, std::string> env;  // spec.env, then variables, then the built-ins
  std::vector<std::string> command;        // command + args, {{VAR}} substituted
  std::vector<ResolvedConfigFile> config_files;
};

// Throws SpecError with one entry per bad variable, named by its env name
// ("MAX_USERS: must be between 1 and 5 digits", "FOO: is not a variable of this workload").
// `values` are what the user set (ENV -> value); a variable that is not user-editable refuses one
// that differs from its default.
ResolvedWorkload resolve(const Workload& workload, const std::map<std::string, std::string>& values,
                         const InstanceContext& context);

// Checks user values alone (for the API before an instance exists); same errors as resolve().
void check_variables(const WorkloadSpec& spec, const std::map<std::string, std::string>& values);

}  // namespace workload
