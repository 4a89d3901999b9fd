#include "runtime/workload_json.hpp"

#include <boost/json.hpp>

namespace agent {

namespace {

const boost::json::value& field(const boost::json::object& o, const char* name) {
  auto* v = o.if_contains(name);
  if (!v) throw RuntimeError(std::string("workload: ") + name + " is missing");
  return *v;
}

std::vector<std::string> strings(const boost::json::value& v, const char* name) {
  if (!v.is_array()) throw RuntimeError(std::string("workload: ") + name + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) {
    if (!s.is_string()) throw RuntimeError(std::string("workload: ") + name + " must be an array of strings");
    out.emplace_back(s.as_string());
  }
  return out;
}

boost::json::array to_array(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

}  // namespace

boost::json::object to_json(const Workload& w) {
  boost::json::object env;
  for (const auto& [k, v] : w.env) env[k] = v;
  return {
      {"instance_id", w.instance_id},
      {"image", w.image},
      {"command", to_array(w.command)},
      {"args", to_array(w.args)},
      {"env", std::move(env)},
      {"working_dir", w.working_dir},
      {"limits",
       {{"cpu", w.limits.cpu},
        {"memory_bytes", w.limits.memory_bytes},
        {"pids", w.limits.pids},
        {"open_files", w.limits.open_files}}},
      {"stop",
       {{"command", w.stop.command},
        {"signal", w.stop.signal},
        {"timeout_ms", w.stop.timeout.count()},
        {"kill_after_ms", w.stop.kill_after.count()}}},
      {"read_only_root", w.read_only_root},
  };
}

Workload workload_from_json(const boost::json::value& value) {
  if (!value.is_object()) throw RuntimeError("workload: must be an object");
  const auto& o = value.as_object();
  try {
    Workload w;
    w.instance_id = field(o, "instance_id").as_string();
    w.image = field(o, "image").as_string();
    w.command = strings(field(o, "command"), "command");
    w.args = strings(field(o, "args"), "args");
    for (const auto& [k, v] : field(o, "env").as_object()) w.env[std::string(k)] = std::string(v.as_string());
    w.working_dir = field(o, "working_dir").as_string();
    const auto& l = field(o, "limits").as_object();
    w.limits = {boost::json::value_to<double>(field(l, "cpu")), boost::json::value_to<std::uint64_t>(field(l, "memory_bytes")),
                boost::json::value_to<std::uint64_t>(field(l, "pids")),
                boost::json::value_to<std::uint64_t>(field(l, "open_files"))};
    const auto& s = field(o, "stop").as_object();
    w.stop = {std::string(field(s, "command").as_string()), boost::json::value_to<int>(field(s, "signal")),
              std::chrono::milliseconds(boost::json::value_to<std::int64_t>(field(s, "timeout_ms"))),
              std::chrono::milliseconds(boost::json::value_to<std::int64_t>(field(s, "kill_after_ms")))};
    w.read_only_root = field(o, "read_only_root").as_bool();
    return w;
  } catch (const RuntimeError&) {
    throw;
  } catch (const std::exception& e) {  // Boost.JSON's accessors: wrong kind or out of range
    throw RuntimeError(std::string("workload: a field has the wrong type (") + e.what() + ")");
  }
}

boost::json::object to_json(const ExitStatus& e) {
  boost::json::object o{{"code", e.code}, {"oom_killed", e.oom_killed}, {"stop_requested", e.stop_requested}};
  o["signal"] = e.signal ? boost::json::value(*e.signal) : boost::json::value(nullptr);
  return o;
}

ExitStatus exit_from_json(const boost::json::value& value) {
  const auto& o = value.as_object();
  ExitStatus e;
  e.code = boost::json::value_to<int>(o.at("code"));
  if (!o.at("signal").is_null()) e.signal = boost::json::value_to<int>(o.at("signal"));
  e.oom_killed = o.at("oom_killed").as_bool();
  e.stop_requested = o.at("stop_requested").as_bool();
  return e;
}

boost::json::object to_json(const OutputLine& line) { return {{"seq", line.seq}, {"line", line.text}}; }

OutputLine line_from_json(const boost::json::value& value) {
  const auto& o = value.as_object();
  return {boost::json::value_to<std::uint64_t>(o.at("seq")), std::string(o.at("line").as_string())};
}

}  // namespace agent
