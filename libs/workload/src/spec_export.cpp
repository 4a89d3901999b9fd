// Writing a workload back as JSON or YAML in its canonical form: quantities and durations in
// their shortest exact spelling, empty optional sections left out.
#include <charconv>
#include <regex>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "workload/spec.hpp"

namespace workload {

namespace json = boost::json;

namespace {

json::object string_object(const std::map<std::string, std::string>& map) {
  json::object out;
  for (const auto& [k, v] : map) out[k] = v;
  return out;
}

json::array string_array(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) out.emplace_back(s);
  return out;
}

json::value cpu_value(std::int64_t millis) {
  if (millis % 1000 == 0) return millis / 1000;
  return json::string(std::to_string(millis) + "m");  // exact, where 0.1 + 0.2 style cores would not be
}

// 2 rather than 2E0: whole numbers are written as integers, which read back the same.
json::value number_value(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) return static_cast<std::int64_t>(v);
  return v;
}

json::object amounts(const Amounts& a) {
  json::object out;
  if (a.cpu_millis) out["cpu"] = cpu_value(*a.cpu_millis);
  if (a.memory_bytes) out["memory"] = format_bytes(*a.memory_bytes);
  if (a.disk_bytes) out["disk"] = format_bytes(*a.disk_bytes);
  return out;
}

json::array ports(const std::vector<Port>& list) {
  json::array out;
  for (const auto& p : list)
    out.push_back({{"name", p.name},
                   {"containerPort", p.container_port},
                   {"protocol", p.protocol == Protocol::Udp ? "udp" : "tcp"}});
  return out;
}

json::object startup(const Startup& s) {
  json::array done;
  for (const auto& m : s.done) done.emplace_back(m.regex ? "regex:" + m.text : m.text);
  return {{"done", done}, {"timeout", format_duration(s.timeout)}, {"stripAnsi", s.strip_ansi}};
}

json::array variables(const std::vector<Variable>& list) {
  json::array out;
  for (const auto& v : list)
    out.push_back({{"name", v.name},
                   {"env", v.env},
                   {"description", v.description},
                   {"default", v.default_value},
                   {"userViewable", v.user_viewable},
                   {"userEditable", v.user_editable},
                   {"rules", string_array(v.rules)}});
  return out;
}

json::array config_files(const std::vector<ConfigFile>& list) {
  json::array out;
  for (const auto& f : list) {
    json::object replace;
    for (const auto& r : f.replace) {
      if (!r.if_value) {
        replace[r.match] = r.value;
        continue;
      }
      if (!replace.contains(r.match) || !replace[r.match].is_object()) replace[r.match] = json::object();
      replace[r.match].as_object()[*r.if_value] = r.value;
    }
    out.push_back({{"path", f.path}, {"parser", to_string(f.parser)}, {"replace", replace}});
  }
  return out;
}

void put_optional(json::object& spec, const WorkloadSpec& s) {
  if (!s.images.empty()) spec["images"] = string_object(s.images);
  if (!s.args.empty()) spec["args"] = string_array(s.args);
  if (!s.working_dir.empty()) spec["workingDir"] = s.working_dir;
  if (!s.env.empty()) spec["env"] = string_object(s.env);
  if (!s.ports.empty()) spec["ports"] = ports(s.ports);
  json::object resources;
  if (auto r = amounts(s.resources.requests); !r.empty()) resources["requests"] = r;
  if (auto l = amounts(s.resources.limits); !l.empty()) resources["limits"] = l;
  if (!resources.empty()) spec["resources"] = resources;
}

}  // namespace

json::value to_json(const Workload& w) {
  const auto& s = w.spec;
  json::object metadata{{"name", w.metadata.name}};
  if (!w.metadata.labels.empty()) metadata["labels"] = string_object(w.metadata.labels);
  if (!w.metadata.annotations.empty()) metadata["annotations"] = string_object(w.metadata.annotations);
  json::object spec;
  if (!s.image.empty()) spec["image"] = s.image;
  spec["command"] = string_array(s.command);
  put_optional(spec, s);
  const auto& rp = s.restart_policy;
  spec["restartPolicy"] = {{"mode", to_string(rp.mode)},
                           {"attempts", rp.attempts},
                           {"interval", format_duration(rp.interval)},
                           {"delay", format_duration(rp.delay)},
                           {"backoff", number_value(rp.backoff)}};
  spec["stopTimeout"] = format_duration(s.stop_timeout);
  spec["startup"] = startup(s.startup);
  if (s.healthcheck)
    spec["healthcheck"] = {{"tcp", s.healthcheck->tcp},
                           {"interval", format_duration(s.healthcheck->interval)},
                           {"timeout", format_duration(s.healthcheck->timeout)}};
  if (!s.stop.command.empty())
    spec["stop"] = {{"command", s.stop.command}};
  else if (!s.stop.signal.empty())
    spec["stop"] = {{"signal", s.stop.signal}};
  if (s.install)
    spec["install"] = {
        {"image", s.install->image}, {"entrypoint", s.install->entrypoint}, {"script", s.install->script}};
  if (!s.variables.empty()) spec["variables"] = variables(s.variables);
  if (!s.config_files.empty()) spec["configFiles"] = config_files(s.config_files);
  if (!s.features.empty()) spec["features"] = string_array(s.features);
  if (!s.file_denylist.empty()) spec["fileDenylist"] = string_array(s.file_denylist);
  return {{"apiVersion", kApiVersion}, {"kind", kKind}, {"metadata", metadata}, {"spec", spec}};
}

std::string to_json_text(const Workload& workload) { return json::serialize(to_json(workload)); }

namespace {

// Plain YAML only where a reader gets the same string back; the rest is quoted or a block.
void emit_string(YAML::Emitter& out, const std::string& s) {
  static const std::regex kPlain("[A-Za-z_/][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+()-]+)*");
  static const std::regex kReserved("(true|false|null|yes|no|on|off|y|n|~)", std::regex::icase);
  bool clean_block = s.find('\n') != std::string::npos && s.find('\r') == std::string::npos &&
                     s.find('\t') == std::string::npos && s.back() == '\n' && s.front() != ' ' &&
                     !std::regex_search(s, std::regex(" \n"));
  if (std::regex_match(s, kPlain) && !std::regex_match(s, kReserved))
    out << s;
  else if (clean_block)
    out << YAML::Literal << s;
  else
    out << YAML::DoubleQuoted << s;
}

void emit(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out << YAML::Null; break;
    case json::kind::bool_: out << (v.as_bool() ? "true" : "false"); break;
    case json::kind::int64: out << v.as_int64(); break;
    case json::kind::uint64: out << v.as_uint64(); break;
    case json::kind::double_: {  // shortest round-tripping form, "2.5" not "2.5E0" (YAML 1.1 readers)
      char buf[32];
      auto end = std::to_chars(buf, buf + sizeof buf, v.as_double()).ptr;
      out << std::string(buf, end);
      break;
    }
    case json::kind::string: emit_string(out, std::string(v.as_string())); break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.as_array()) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : v.as_object()) {
        out << YAML::Key;
        emit_string(out, std::string(key));
        out << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::string to_yaml(const Workload& workload) {
  YAML::Emitter out;
  emit(out, to_json(workload));
  return std::string(out.c_str()) + "\n";
}

}  // namespace workload
