#include "instances/rows.hpp"

#include <boost/json.hpp>

#include "agentproto/json.hpp"

#include "common/error.hpp"
#include "instances/lifecycle.hpp"
#include "workload/resolve.hpp"

namespace shardlyn::instance_rows {

namespace json = boost::json;
using agentproto::InstanceState;

namespace {

constexpr std::string_view kColumns =
    "SELECT id, org_id, workload_id, node_id, name, variables, resources, state, state_reason, state_at, "
    "desired_power, restart_generation, kill_generation, exit_code, stats, stats_at, install_output, "
    "install_succeeded, created_by, created_at, updated_at FROM instances ";

std::map<std::string, std::string> string_map(const std::string& text) {
  std::map<std::string, std::string> out;
  auto parsed = json::parse(text);
  for (const auto& [k, v] : parsed.as_object()) out[std::string(k)] = std::string(v.as_string());
  return out;
}

std::optional<agentproto::InstanceStats> stats_from(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return json::value_to<agentproto::InstanceStats>(json::parse(*text));
}

InstanceRecord from_row(const store::Statement& q) {
  InstanceRecord r;
  r.id = q.text(0);
  r.org_id = q.text(1);
  r.workload_id = q.text(2);
  r.node_id = q.text(3);
  r.name = q.text(4);
  r.variables = string_map(q.text(5));
  if (auto text = q.text_or_null(6)) r.resources = json::parse(*text).as_object();
  r.state = lifecycle::state_from(q.text(7)).value_or(InstanceState::Error);
  r.state_reason = q.text(8);
  r.state_at = q.int64(9);
  r.desired = lifecycle::power_from(q.text(10)).value_or(agentproto::PowerState::Stopped);
  r.restart_generation = static_cast<std::uint64_t>(q.int64(11));
  r.kill_generation = static_cast<std::uint64_t>(q.int64(12));
  if (auto code = q.int64_or_null(13)) r.exit_code = static_cast<int>(*code);
  r.stats = stats_from(q.text_or_null(14));
  r.stats_at = q.int64_or_null(15);
  auto install = json::parse(q.text(16));
  for (const auto& line : install.as_array()) r.install_output.emplace_back(line.as_string());
  if (auto ok = q.int64_or_null(17)) r.install_succeeded = *ok != 0;
  r.created_by = q.text(18);
  r.created_at = q.int64(19);
  r.updated_at = q.int64(20);
  return r;
}

// A tcp check names a port of spec.ports or a number.
agentproto::HealthcheckSpec healthcheck_of(const workload::Healthcheck& h, const workload::InstanceContext& context) {
  agentproto::HealthcheckSpec out;
  out.kind = agentproto::HealthcheckKind::Tcp;
  auto named = context.ports.find(h.tcp);
  out.port = static_cast<std::uint32_t>(named != context.ports.end() ? named->second : std::stoi(h.tcp));
  out.interval_ms = static_cast<std::uint64_t>(h.interval.count());
  out.timeout_ms = static_cast<std::uint64_t>(h.timeout.count());
  return out;
}

}  // namespace

std::optional<InstanceRecord> find(store::Connection& db, std::string_view id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

std::optional<InstanceRecord> find_in(store::Connection& db, std::string_view org_id, std::string_view id) {
  auto found = find(db, id);
  if (!found || found->org_id != org_id) return std::nullopt;
  return found;
}

std::vector<InstanceRecord> where(store::Connection& db, std::string_view condition, std::string_view value) {
  std::vector<InstanceRecord> out;
  auto q = db.prepare(std::string(kColumns) + "WHERE " + std::string(condition) + " = ? ORDER BY name, id");
  q->bind_all(value);
  while (q->step()) out.push_back(from_row(*q));
  return out;
}

void set_state(store::Connection& db, InstanceRecord& record, InstanceState to, std::string_view reason,
               std::string_view actor, std::int64_t at) {
  if (record.state == to) return;
  db.execute(
      "INSERT INTO instance_transitions (instance_id, from_state, to_state, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
      record.id, agentproto::to_string(record.state), agentproto::to_string(to), reason, actor, at);
  db.execute("UPDATE instances SET state = ?, state_reason = ?, state_at = ?, updated_at = ? WHERE id = ?",
             agentproto::to_string(to), reason, at, at, record.id);
  record.state = to;
  record.state_reason = std::string(reason);
  record.state_at = at;
}

workload::Resources parse_resources(const workload::Workload& base, const json::object& resources) {
  auto document = workload::to_json(base).as_object();
  document["spec"].as_object()["resources"] = resources;
  try {
    return workload::workload_from_json(document).spec.resources;
  } catch (const workload::SpecError& e) {
    std::string message;
    for (const auto& err : e.errors()) {
      auto field = err.field.starts_with("spec.") ? err.field.substr(5) : err.field;
      message += (message.empty() ? "" : "; ") + field + ": " + err.message;
    }
    throw common::ApiError::validation(message);
  }
}

workload::Workload effective(const workload::Workload& base, const std::optional<json::object>& resources) {
  auto out = base;
  if (resources) out.spec.resources = parse_resources(base, *resources);
  return out;
}

agentproto::DesiredInstance for_agent(const InstanceRecord& record, const workload::Workload& base) {
  auto w = effective(base, record.resources);
  const auto& s = w.spec;
  workload::InstanceContext context;
  context.id = record.id;
  if (!s.ports.empty()) context.port = s.ports.front().container_port;
  for (const auto& p : s.ports) context.ports[p.name] = p.container_port;
  context.memory_mib = s.resources.limits.memory_bytes.value_or(0) / (1024 * 1024);
  context.disk_mib = s.resources.limits.disk_bytes.value_or(0) / (1024 * 1024);
  auto resolved = workload::resolve(w, record.variables, context);

  agentproto::DesiredInstance d{record.id, record.desired, {}, record.restart_generation, record.kill_generation};
  auto& out = d.workload;
  out.image = s.image;
  out.command = resolved.command;
  out.env = resolved.env;
  out.working_dir = s.working_dir;
  out.limits.cpu = static_cast<double>(s.resources.limits.cpu_millis.value_or(0)) / 1000.0;
  out.limits.memory_bytes = static_cast<std::uint64_t>(s.resources.limits.memory_bytes.value_or(0));
  out.stop = {s.stop.command, s.stop.signal.empty() ? "SIGTERM" : s.stop.signal,
              static_cast<std::uint64_t>(s.stop_timeout.count())};
  for (const auto& m : s.startup.done) out.startup.done.push_back(m.regex ? "regex:" + m.text : m.text);
  out.startup.timeout_ms = static_cast<std::uint64_t>(s.startup.timeout.count());
  if (s.install) out.install = agentproto::InstallSpec{s.install->image, s.install->entrypoint, s.install->script};
  const auto& p = s.restart_policy;
  static constexpr agentproto::RestartMode kModes[] = {agentproto::RestartMode::Never, agentproto::RestartMode::OnFailure,
                                                       agentproto::RestartMode::Always};
  out.restart = {kModes[static_cast<int>(p.mode)], static_cast<std::uint32_t>(p.attempts),
                 static_cast<std::uint64_t>(p.interval.count()), static_cast<std::uint64_t>(p.delay.count()), p.backoff};
  if (s.healthcheck) out.healthcheck = healthcheck_of(*s.healthcheck, context);
  for (const auto& f : resolved.config_files) {
    agentproto::ConfigFileSpec file{f.path, std::string(workload::to_string(f.parser)), {}};
    for (const auto& r : f.replace) file.replace.push_back({r.match, r.if_value, r.value});
    out.config_files.push_back(std::move(file));
  }
  return d;
}

std::string to_json_text(const std::map<std::string, std::string>& values) {
  json::object o;
  for (const auto& [k, v] : values) o[k] = v;
  return json::serialize(o);
}

}  // namespace shardlyn::instance_rows
