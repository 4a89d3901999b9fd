// The desired-state document and the agent's event batches.
#include <cctype>

#include "agentproto/json.hpp"
#include "reader.hpp"

namespace agentproto {

using detail::Reader;
namespace json = boost::json;

namespace {

json::object workload_json(const ResolvedWorkload& w) {
  json::object o{
      {"image", w.image},
      {"command", detail::to_array(w.command)},
      {"args", detail::to_array(w.args)},
      {"env", detail::to_object(w.env)},
      {"working_dir", w.working_dir},
      {"limits",
       {{"cpu", w.limits.cpu}, {"memory_bytes", w.limits.memory_bytes}, {"pids", w.limits.pids},
        {"open_files", w.limits.open_files}}},
      {"stop", {{"command", w.stop.command}, {"signal", w.stop.signal}, {"timeout_ms", w.stop.timeout_ms}}},
      {"startup", {{"done", detail::to_array(w.startup.done)}, {"timeout_ms", w.startup.timeout_ms}}},
      {"restart",
       {{"mode", w.restart.mode}, {"attempts", w.restart.attempts}, {"interval_ms", w.restart.interval_ms},
        {"delay_ms", w.restart.delay_ms}, {"backoff", w.restart.backoff}}},
      {"read_only_root", w.read_only_root},
  };
  if (w.install)
    o["install"] = {{"image", w.install->image}, {"entrypoint", w.install->entrypoint}, {"script", w.install->script}};
  return o;
}

bool signal_name(const std::string& s) {
  if (s.size() < 4 || !s.starts_with("SIG")) return false;
  for (char c : s.substr(3))
    if (!std::isupper(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

RestartSpec read_restart(Reader r) {
  RestartSpec p;
  p.mode = r.string("mode");
  if (p.mode != "never" && p.mode != "on-failure" && p.mode != "always")
    r.fail("mode", "must be never, on-failure or always, got '" + p.mode + "'");
  p.attempts = static_cast<std::uint32_t>(r.u64("attempts"));
  p.interval_ms = r.u64("interval_ms");
  p.delay_ms = r.u64("delay_ms");
  p.backoff = r.number("backoff");
  if (p.backoff < 1) r.fail("backoff", "must be at least 1");
  r.done();
  return p;
}

ResolvedWorkload read_workload(Reader r) {
  ResolvedWorkload w;
  w.image = r.string("image");
  w.command = r.strings("command");
  if (w.command.empty()) r.fail("command", "must name a program");
  w.args = r.strings("args");
  w.env = r.string_map("env");
  w.working_dir = r.string("working_dir");
  auto l = r.object("limits");
  w.limits = {l.number("cpu"), l.u64("memory_bytes"), l.u64("pids"), l.u64("open_files")};
  l.done();
  auto s = r.object("stop");
  w.stop = {s.string("command"), s.string("signal"), s.u64("timeout_ms")};
  if (!signal_name(w.stop.signal)) s.fail("signal", "must be a signal name such as SIGTERM, got '" + w.stop.signal + "'");
  s.done();
  auto st = r.object("startup");
  w.startup = {st.strings("done"), st.u64("timeout_ms")};
  st.done();
  if (r.has("install")) {
    auto i = r.object("install");
    w.install = InstallSpec{i.string("image"), i.string("entrypoint"), i.string("script")};
    i.done();
  } else {
    r.mark("install");  // null is the same as absent
  }
  if (r.has("restart")) w.restart = read_restart(r.object("restart"));
  else r.mark("restart");  // absent: the default policy
  w.read_only_root = r.boolean("read_only_root");
  r.done();
  return w;
}

bool valid_instance_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

std::string desired_etag(std::uint64_t version) { return "\"" + std::to_string(version) + "\""; }

std::optional<std::uint64_t> version_from_etag(const std::string& etag) {
  auto text = etag.starts_with("W/") ? etag.substr(2) : etag;
  if (text.size() < 3 || text.front() != '"' || text.back() != '"') return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text.substr(1, text.size() - 2)) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

void tag_invoke(json::value_from_tag, json::value& out, const DesiredState& m) {
  json::array instances;
  for (const auto& i : m.instances)
    instances.push_back({{"id", i.id},
                         {"power", to_string(i.power)},
                         {"restart_generation", i.restart_generation},
                         {"kill_generation", i.kill_generation},
                         {"workload", workload_json(i.workload)}});
  out = {{"v", kVersion}, {"version", m.version}, {"instances", std::move(instances)}};
}

DesiredState tag_invoke(json::value_to_tag<DesiredState>, const json::value& in) {
  Reader r(in, "desired");
  r.version();
  DesiredState m;
  m.version = r.u64("version");
  r.each("instances", [&](Reader& i) {
    DesiredInstance d;
    d.id = i.string("id");
    if (!valid_instance_id(d.id)) i.fail("id", "must be 1 to 64 letters, digits, '-' or '_'");
    for (const auto& seen : m.instances)
      if (seen.id == d.id) i.fail("id", "appears twice: " + d.id);
    d.power = i.choice<PowerState>("power", detail::kPowerStates);
    d.restart_generation = i.opt_u64("restart_generation").value_or(0);
    d.kill_generation = i.opt_u64("kill_generation").value_or(0);
    d.workload = read_workload(i.object("workload"));
    m.instances.push_back(std::move(d));
  });
  r.done();
  return m;
}

void tag_invoke(json::value_from_tag, json::value& out, const EventBatch& m) {
  json::array events;
  for (const auto& e : m.events) {
    json::object o{{"instance_id", e.instance_id}, {"kind", to_string(e.kind)}, {"at", e.at},
                   {"to", to_string(e.to)},       {"reason", e.reason},        {"oom_killed", e.oom_killed},
                   {"last_lines", detail::to_array(e.last_lines)}};
    if (e.from) o["from"] = to_string(*e.from);
    if (e.exit_code) o["exit_code"] = *e.exit_code;
    if (e.install_succeeded) o["install_succeeded"] = *e.install_succeeded;
    events.push_back(std::move(o));
  }
  out = {{"v", kVersion}, {"events", std::move(events)}};
}

EventBatch tag_invoke(json::value_to_tag<EventBatch>, const json::value& in) {
  Reader r(in, "events");
  r.version();
  EventBatch m;
  r.each("events", [&](Reader& e) {
    InstanceEvent ev;
    ev.instance_id = e.string("instance_id");
    ev.kind = e.choice<EventKind>("kind", detail::kEventKinds);
    ev.at = e.string("at");
    if (e.has("from")) ev.from = e.choice<InstanceState>("from", detail::kInstanceStates);
    else e.mark("from");
    ev.to = e.choice<InstanceState>("to", detail::kInstanceStates);
    ev.reason = e.string("reason");
    ev.exit_code = e.opt_integer("exit_code");
    ev.oom_killed = e.boolean("oom_killed");
    ev.last_lines = e.strings("last_lines");
    ev.install_succeeded = e.opt_boolean("install_succeeded");
    m.events.push_back(std::move(ev));
  });
  r.done();
  return m;
}

}  // namespace agentproto
