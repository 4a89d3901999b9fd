// The parts of the spec shared by reading and writing: document parsing, names of enums and
// signals, and the checks a JSON Schema cannot express.
#include <csignal>
#include <regex>
#include <set>

#include "common/openapi.hpp"
#include "text.hpp"
#include "walker.hpp"
#include "workload/resolve.hpp"
#include "workload/rules.hpp"
#include "workload/spec.hpp"

namespace workload {

namespace {

std::string describe(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.field.empty() ? e.message : e.field + ": " + e.message;
  }
  return out;
}

}  // namespace

SpecError::SpecError(std::vector<FieldError> errors)
    : std::runtime_error(describe(errors)), errors_(std::move(errors)) {}

boost::json::value parse_document(std::string_view text) {
  std::string_view body = trim(text);
  if (body.empty()) throw SpecError("document", "is empty");
  std::string json_problem;
  if (body.front() == '{' || body.front() == '[') {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (!ec) return value;
    json_problem = "invalid JSON: " + ec.message();
  }
  try {
    return common::yaml_to_json(body);
  } catch (const std::exception& e) {
    // Text that looked like JSON gets the JSON parser's complaint: it is what the author meant.
    throw SpecError("document", json_problem.empty() ? e.what() : json_problem);
  }
}

int signal_number(std::string_view name) {
  static const std::pair<std::string_view, int> kSignals[] = {
      {"SIGHUP", SIGHUP},     {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGABRT", SIGABRT},
      {"SIGKILL", SIGKILL},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGTERM", SIGTERM},
      {"SIGWINCH", SIGWINCH}, {"SIGSTOP", SIGSTOP}, {"SIGCONT", SIGCONT}, {"SIGPWR", SIGPWR}};
  for (const auto& [n, number] : kSignals) {
    if (n == name) return number;
  }
  return 0;
}

std::string_view to_string(ConfigParser parser) {
  switch (parser) {
    case ConfigParser::File: return "file";
    case ConfigParser::Properties: return "properties";
    case ConfigParser::Ini: return "ini";
    case ConfigParser::Json: return "json";
    case ConfigParser::Yaml: return "yaml";
    case ConfigParser::Xml: return "xml";
  }
  return "file";
}

std::optional<ConfigParser> config_parser_from(std::string_view name) {
  for (auto p : {ConfigParser::File, ConfigParser::Properties, ConfigParser::Ini, ConfigParser::Json,
                 ConfigParser::Yaml, ConfigParser::Xml}) {
    if (to_string(p) == name) return p;
  }
  if (name == "yml") return ConfigParser::Yaml;  // eggs use both spellings
  return std::nullopt;
}

std::string_view to_string(RestartMode mode) {
  switch (mode) {
    case RestartMode::Never: return "never";
    case RestartMode::OnFailure: return "on-failure";
    case RestartMode::Always: return "always";
  }
  return "on-failure";
}

namespace {

void check_variables_semantics(const WorkloadSpec& spec, ErrorList& errors) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < spec.variables.size(); ++i) {
    const auto& var = spec.variables[i];
    const std::string path = index_path("spec.variables", i);
    if (!seen.insert(var.env).second) errors.add(path + ".env", "repeats " + var.env);
    if (is_builtin_env(var.env)) errors.add(path + ".env", var.env + " is provided by Shardlyn; pick another name");
    bool rules_ok = true;
    for (const auto& rule : var.rules) {
      if (auto problem = rule_problem(rule)) errors.add(path + ".rules", *problem), rules_ok = false;
    }
    // An empty default means "the user must set it"; a non-empty one must pass its own rules.
    if (rules_ok && !var.default_value.empty()) {
      if (auto problem = check_value(var.rules, var.default_value)) errors.add(path + ".default", *problem);
    }
  }
}

void check_placeholders(const WorkloadSpec& spec, ErrorList& errors) {
  auto known_var = [&](const std::string& name) {
    if (is_builtin_env(name) || spec.env.count(name)) return true;
    for (const auto& v : spec.variables) {
      if (v.env == name) return true;
    }
    return false;
  };
  auto check_list = [&](const std::vector<std::string>& list, const char* path) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (const auto& name : placeholders(list[i])) {
        if (!known_var(name)) errors.add(index_path(path, i), "{{" + name + "}} is not a variable of this workload");
      }
    }
  };
  check_list(spec.command, "spec.command");
  check_list(spec.args, "spec.args");
  for (std::size_t i = 0; i < spec.config_files.size(); ++i) {
    const auto& file = spec.config_files[i];
    const std::string path = index_path("spec.configFiles", i);
    if (file.path.front() == '/' || std::regex_search(file.path, std::regex("(^|/)\\.\\.(/|$)")))
      errors.add(path + ".path", "must be relative to the instance root, without '..'");
    for (const auto& r : file.replace) {
      for (const auto& name : placeholders(r.value)) {
        if (!is_config_placeholder(name, spec) && !known_var(name))
          errors.add(path + ".replace." + r.match, "{{" + name + "}} is not a known placeholder");
      }
    }
  }
}

void check_resources(const Resources& r, ErrorList& errors) {
  auto check = [&](const std::optional<std::int64_t>& req, const std::optional<std::int64_t>& lim, const char* key) {
    if (req && lim && *lim < *req)
      errors.add(std::string("spec.resources.limits.") + key,
                 std::string("must not be below spec.resources.requests.") + key);
  };
  check(r.requests.cpu_millis, r.limits.cpu_millis, "cpu");
  check(r.requests.memory_bytes, r.limits.memory_bytes, "memory");
  check(r.requests.disk_bytes, r.limits.disk_bytes, "disk");
}

}  // namespace

void check_semantics(const Workload& workload, ErrorList& errors) {
  const auto& spec = workload.spec;
  std::set<std::string> ports;
  for (std::size_t i = 0; i < spec.ports.size(); ++i) {
    if (!ports.insert(spec.ports[i].name).second)
      errors.add(index_path("spec.ports", i) + ".name", "repeats " + spec.ports[i].name);
  }
  if (spec.healthcheck && !ports.count(spec.healthcheck->tcp) &&
      !std::regex_match(spec.healthcheck->tcp, std::regex("[0-9]+")))
    errors.add("spec.healthcheck.tcp", "names no port of spec.ports");
  for (std::size_t i = 0; i < spec.startup.done.size(); ++i) {
    const auto& marker = spec.startup.done[i];
    if (!marker.regex) continue;
    try {
      std::regex re(marker.text);
    } catch (const std::regex_error& e) {
      errors.add(index_path("spec.startup.done", i), std::string("regex does not compile: ") + e.what());
    }
  }
  check_variables_semantics(spec, errors);
  check_placeholders(spec, errors);
  check_resources(spec.resources, errors);
}

}  // namespace workload
