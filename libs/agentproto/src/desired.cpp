// The desired-state document and the agent's event batches.
#include <cctype>

#include "agentproto/json.hpp"
#include "reader.hpp"

namespace agentproto {

using detail::Reader;
namespace json = boost::json;

namespace {

json::object restart_json(const RestartSpec& r) {
  return {{"mode", to_string(r.mode)}, {"attempts", r.attempts}, {"interval_ms", r.interval_ms},
          {"delay_ms", r.delay_ms}, {"backoff", r.backoff}};
}

json::object healthcheck_json(const HealthcheckSpec& h) {
  json::object o{{"kind", to_string(h.kind)}, {"interval_ms", h.interval_ms}, {"timeout_ms", h.timeout_ms}};
  if (h.kind == HealthcheckKind::Exec) o["command"] = detail::to_array(h.command);
  else o["port"] = h.port;
  if (h.kind == HealthcheckKind::Http) o["path"] = h.path;
  return o;
}

json::array config_files_json(const std::vector<ConfigFileSpec>& files) {
  json::array out;
  for (const auto& f : files) {
    json::array replace;
    for (const auto& r : f.replace) {
      json::object o{{"match", r.match}, {"value", r.value}};
      if (r.if_value) o["if_value"] = *r.if_value;
      replace.push_back(std::move(o));
    }
    out.push_back({{"path", f.path}, {"parser", f.parser}, {"replace", std::move(replace)}});
  }
  return out;
}

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
      {"stop",
       {{"command", w.stop.command}, {"signal", w.stop.signal}, {"timeout_ms", w.stop.timeout_ms},
        {"kill_after_ms", w.stop.kill_after_ms}}},
      {"startup", {{"done", detail::to_array(w.startup.done)}, {"timeout_ms", w.startup.timeout_ms}}},
      {"read_only_root", w.read_only_root},
      {"restart", restart_json(w.restart)},
      {"config_files", config_files_json(w.config_files)},
  };
  if (w.healthcheck) o["healthcheck"] = healthcheck_json(*w.healthcheck);
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
  RestartSpec spec;
  spec.mode = r.choice<RestartMode>("mode", detail::kRestartModes);
  spec.attempts = r.u32("attempts");
  spec.interval_ms = r.u64("interval_ms");
  spec.delay_ms = r.u64("delay_ms");
  spec.backoff = r.number("backoff");
  if (spec.backoff < 1) r.fail("backoff", "must be at least 1");
  r.done();
  return spec;
}

HealthcheckSpec read_healthcheck(Reader r) {
  HealthcheckSpec h;
  h.kind = r.choice<HealthcheckKind>("kind", detail::kHealthcheckKinds);
  if (h.kind == HealthcheckKind::Exec) {
    h.command = r.strings("command");
    if (h.command.empty()) r.fail("command", "must name a program");
  } else {
    h.port = r.u32("port");
    if (h.port == 0 || h.port > 65535) r.fail("port", "must be a port number (1..65535)");
  }
  if (h.kind == HealthcheckKind::Http) {
    h.path = r.string("path");
    if (!h.path.starts_with("/")) r.fail("path", "must start with /");
  }
  h.interval_ms = r.u64("interval_ms");
  h.timeout_ms = r.u64("timeout_ms");
  if (h.interval_ms == 0) r.fail("interval_ms", "must be above 0");
  r.done();
  return h;
}

std::vector<ConfigFileSpec> read_config_files(Reader& r) {
  std::vector<ConfigFileSpec> files;
  r.each("config_files", [&](Reader& f) {
    ConfigFileSpec file;
    file.path = f.string("path");
    if (file.path.empty() || file.path.starts_with("/")) f.fail("path", "must be a path relative to the instance root");
    file.parser = detail::kConfigParsers[f.choice<int>("parser", detail::kConfigParsers)];
    f.each("replace", [&](Reader& x) {
      file.replace.push_back({x.string("match"), x.opt_string("if_value"), x.string("value")});
    });
    files.push_back(std::move(file));
  });
  return files;
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
  w.stop = {s.string("command"), s.string("signal"), s.u64("timeout_ms"), s.opt_u64("kill_after_ms").value_or(10000)};
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
  w.read_only_root = r.boolean("read_only_root");
  if (r.has("restart")) w.restart = read_restart(r.object("restart"));
  else r.mark("restart");
  if (r.has("healthcheck")) w.healthcheck = read_healthcheck(r.object("healthcheck"));
  else r.mark("healthcheck");
  if (r.has("config_files")) w.config_files = read_config_files(r);
  else r.mark("config_files");
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
                         {"workload", workload_json(i.workload)},
                         {"restart_generation", i.restart_generation},
                         {"kill_generation", i.kill_generation}});
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
    d.workload = read_workload(i.object("workload"));
    d.restart_generation = i.opt_u64("restart_generation").value_or(0);
    d.kill_generation = i.opt_u64("kill_generation").value_or(0);
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
    if (e.signal) o["signal"] = *e.signal;
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
    ev.signal = e.opt_integer("signal");
    ev.oom_killed = e.boolean("oom_killed");
    ev.last_lines = e.strings("last_lines");
    ev.install_succeeded = e.opt_boolean("install_succeeded");
    m.events.push_back(std::move(ev));
  });
  r.done();
  return m;
}

}  // namespace agentproto
