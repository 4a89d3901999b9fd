#include "workload/resolve.hpp"

#include <algorithm>

#include "text.hpp"
#include "workload/rules.hpp"

namespace workload {

bool is_builtin_env(std::string_view name) {
  return std::find(std::begin(kBuiltinEnv), std::end(kBuiltinEnv), name) != std::end(kBuiltinEnv);
}

std::vector<std::string> placeholders(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    auto end = text.find("}}", pos + 2);
    if (end == std::string_view::npos) break;
    out.emplace_back(trim(text.substr(pos + 2, end - pos - 2)));
    pos = end + 2;
  }
  return out;
}

bool is_config_placeholder(std::string_view name, const WorkloadSpec& spec) {
  static const std::string_view kFixed[] = {"server.port", "server.ip", "server.memory",
                                            "server.disk", "server.id", "node.interface"};
  if (std::find(std::begin(kFixed), std::end(kFixed), name) != std::end(kFixed)) return true;
  if (name.starts_with("env.")) return name.size() > 4;
  if (name.starts_with("server.ports.")) {
    auto port = name.substr(13);
    return std::any_of(spec.ports.begin(), spec.ports.end(), [&](const Port& p) { return p.name == port; });
  }
  return false;
}

namespace {

// Applies user values over defaults; every problem is named by the variable's env name.
std::map<std::string, std::string> variable_values(const WorkloadSpec& spec,
                                                   const std::map<std::string, std::string>& values) {
  ErrorList errors;
  std::map<std::string, std::string> out;
  for (const auto& [env, _] : values) {
    bool known =
        std::any_of(spec.variables.begin(), spec.variables.end(), [&](const Variable& v) { return v.env == env; });
    if (!known) errors.add(env, "is not a variable of this workload");
  }
  for (const auto& var : spec.variables) {
    auto given = values.find(var.env);
    std::string value = given == values.end() ? var.default_value : given->second;
    if (given != values.end() && !var.user_editable && given->second != var.default_value) {
      errors.add(var.env, "cannot be changed (" + var.name + " is not user-editable)");
      continue;
    }
    if (auto problem = check_value(var.rules, value)) errors.add(var.env, *problem);
    out[var.env] = value;
  }
  errors.throw_if_any();
  return out;
}

std::string substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& name : placeholders(text)) {
    auto it = values.find(name);
    if (it == values.end()) throw SpecError("{{" + name + "}}", "has no value");
    // Spacing inside the braces is allowed ({{ VAR }}), so replace what is actually written.
    std::size_t open = text.find("{{");
    while (open != std::string::npos) {
      auto close = text.find("}}", open);
      if (close == std::string::npos) break;
      if (trim(std::string_view(text).substr(open + 2, close - open - 2)) == name) {
        text.replace(open, close + 2 - open, it->second);
        open = text.find("{{", open + it->second.size());
      } else {
        open = text.find("{{", close + 2);
      }
    }
  }
  return text;
}

// The egg convention: a shell's `-c` script is the startup line; otherwise the whole command.
std::string startup_line(const std::vector<std::string>& command) {
  if (command.size() == 3 && command[1] == "-c") return command[2];
  std::string line;
  for (const auto& part : command) line += (line.empty() ? "" : " ") + part;
  return line;
}

std::map<std::string, std::string> config_values(const InstanceContext& ctx,
                                                 const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> out(env);  // {{VAR}} works in config values as in the command
  out["server.port"] = std::to_string(ctx.port);
  out["server.ip"] = ctx.ip;
  out["server.memory"] = std::to_string(ctx.memory_mib);
  out["server.disk"] = std::to_string(ctx.disk_mib);
  out["server.id"] = ctx.id;
  out["node.interface"] = ctx.node_interface;
  for (const auto& [name, port] : ctx.ports) out["server.ports." + name] = std::to_string(port);
  for (const auto& [name, value] : env) out["env." + name] = value;
  return out;
}

}  // namespace

void check_variables(const WorkloadSpec& spec, const std::map<std::string, std::string>& values) {
  (void)variable_values(spec, values);
}

ResolvedWorkload resolve(const Workload& workload, const std::map<std::string, std::string>& values,
                         const InstanceContext& ctx) {
  const auto& spec = workload.spec;
  ResolvedWorkload out;
  out.env = spec.env;
  for (auto& [env, value] : variable_values(spec, values)) out.env[env] = value;
  out.env["SERVER_PORT"] = std::to_string(ctx.port);
  out.env["SERVER_IP"] = ctx.ip;
  out.env["SERVER_MEMORY"] = std::to_string(ctx.memory_mib);
  out.env["SERVER_UUID"] = ctx.id;
  for (const auto& part : spec.command) out.command.push_back(substitute(part, out.env));
  for (const auto& part : spec.args) out.command.push_back(substitute(part, out.env));
  // Images that run STARTUP themselves (the egg convention) find the resolved command there.
  out.env["STARTUP"] = startup_line(out.command);
  auto config = config_values(ctx, out.env);
  for (const auto& file : spec.config_files) {
    ResolvedConfigFile resolved{file.path, file.parser, {}};
    for (const auto& r : file.replace) resolved.replace.push_back({r.match, r.if_value, substitute(r.value, config)});
    out.config_files.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace workload
