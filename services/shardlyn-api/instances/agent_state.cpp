// The agent's side of instances/: the desired state of a node, the events and heartbeat
// reports it sends back, and the metrics history they feed.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "instances/instances.hpp"
#include "instances/lifecycle.hpp"
#include "instances/rows.hpp"
#include "store/time.hpp"
#include "workloads/workloads.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::InstanceState;

namespace {

constexpr std::int64_t kRawKept = 24 * 3600, kPointKept = 30 * 24 * 3600, kPoint = 300;

std::string stats_json(const agentproto::InstanceStats& s) {
  return json::serialize(json::object{{"cpu_seconds", s.cpu_seconds},
                                      {"memory_bytes", s.memory_bytes},
                                      {"memory_limit_bytes", s.memory_limit_bytes},
                                      {"pids", s.pids},
                                      {"rx_bytes", s.rx_bytes},
                                      {"tx_bytes", s.tx_bytes},
                                      {"uptime_ms", s.uptime_ms}});
}

std::string lines_json(const std::vector<std::string>& lines, std::size_t keep) {
  json::array out;
  auto first = lines.size() > keep ? lines.size() - keep : 0;
  for (auto i = first; i < lines.size(); ++i) out.emplace_back(lines[i]);
  return json::serialize(out);
}

// Records one event of the node's instance; the refusal's text when it cannot be recorded.
std::optional<std::string> record_event(store::Connection& db, const std::string& node_id,
                                        const agentproto::InstanceEvent& e, std::size_t crash_lines) {
  auto r = instance_rows::find(db, e.instance_id);
  if (!r || r->node_id != node_id) return "not an instance of this node";
  auto at = common::parse_rfc3339(e.at).value_or(store::unix_now());
  if (r->state != e.to && !lifecycle::can_transition(r->state, e.to) &&
      !(e.from && lifecycle::can_transition(*e.from, e.to)))
    return std::string("no transition from ") + agentproto::to_string(r->state) + " to " + agentproto::to_string(e.to);
  if (r->state == InstanceState::Deleting && e.to != InstanceState::Deleting) return "the instance is being deleted";
  if (lifecycle::contradicts_desired({r->state, r->desired}, e.to))
    return std::string("predates the last power action (") + agentproto::to_string(e.to) + " while " +
           agentproto::to_string(r->state) + ")";
  if (e.kind == agentproto::EventKind::Crash)
    db.execute(
        "INSERT INTO instance_crashes (instance_id, exit_code, oom_killed, reason, last_lines, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        r->id, e.exit_code ? std::optional<std::int64_t>(*e.exit_code) : std::nullopt, e.oom_killed ? 1 : 0, e.reason,
        lines_json(e.last_lines, crash_lines), at);
  if (e.kind == agentproto::EventKind::Install)
    db.execute("UPDATE instances SET install_output = ?, install_succeeded = ? WHERE id = ?",
               lines_json(e.last_lines, crash_lines),
               e.install_succeeded ? std::optional<std::int64_t>(*e.install_succeeded ? 1 : 0) : std::nullopt, r->id);
  if (e.exit_code) db.execute("UPDATE instances SET exit_code = ? WHERE id = ?", *e.exit_code, r->id);
  instance_rows::set_state(db, *r, e.to, e.reason.empty() ? "reported by the agent" : e.reason, "agent", at);
  return std::nullopt;
}

void observe_one(store::Connection& db, InstanceRecord& r, const agentproto::InstanceReport& report,
                 std::int64_t now) {
  db.execute("UPDATE instances SET stats = ?, stats_at = ? WHERE id = ?", stats_json(report.stats), now, r.id);
  const auto& s = report.stats;
  db.execute(
      "INSERT OR REPLACE INTO instance_metrics (instance_id, resolution, at, cpu_seconds, memory_bytes, pids, "
      "rx_bytes, tx_bytes, uptime_ms) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
      r.id, now, s.cpu_seconds, static_cast<std::int64_t>(s.memory_bytes), static_cast<std::int64_t>(s.pids),
      static_cast<std::int64_t>(s.rx_bytes), static_cast<std::int64_t>(s.tx_bytes),
      static_cast<std::int64_t>(s.uptime_ms));
  if (!lifecycle::accepts_observation({r.state, r.desired}, report.state)) return;
  if (report.exit_code) db.execute("UPDATE instances SET exit_code = ? WHERE id = ?", *report.exit_code, r.id);
  instance_rows::set_state(db, r, report.state, "observed in a heartbeat", "agent", now);
}

}  // namespace

agentproto::DesiredState Instances::desired(const std::string& node_id, std::uint64_t version) {
  return db_.read([&](store::Connection& db) {
    agentproto::DesiredState out;
    out.version = version;
    std::map<std::string, std::optional<WorkloadRecord>> workloads;
    for (const auto& r : instance_rows::where(db, "node_id", node_id)) {
      auto& w = workloads[r.workload_id];
      if (!w) w = workloads::find(db, r.org_id, r.workload_id);
      try {
        out.instances.push_back(instance_rows::for_agent(r, w->workload));
      } catch (const std::exception& e) {  // checked when the workload changed: a bug, not a user error
        common::log::error("instance does not resolve", {{"instance_id", r.id}, {"error", e.what()}});
      }
    }
    return out;
  });
}

EventOutcome Instances::record(const std::string& node_id, const agentproto::EventBatch& batch) {
  EventOutcome out;
  std::vector<std::pair<std::string, InstanceState>> states;
  db_.write([&](store::Connection& db) {
    states.clear();
    for (const auto& e : batch.events) {
      if (auto refused = record_event(db, node_id, e, kCrashLines)) {
        out.refused.push_back(e.instance_id + ": " + *refused);
      } else {
        ++out.recorded;
        states.emplace_back(e.instance_id, e.to);
      }
    }
  });
  announce(states);
  return out;
}

bool Instances::observe(store::Connection& db, const std::string& node_id,
                        const std::vector<agentproto::InstanceReport>& reports) {
  std::vector<std::string> gone;
  auto now = store::unix_now();
  for (auto& r : instance_rows::where(db, "node_id", node_id)) {
    auto report = std::find_if(reports.begin(), reports.end(), [&](const auto& x) { return x.id == r.id; });
    if (report != reports.end()) observe_one(db, r, *report, now);
    else if (r.desired == agentproto::PowerState::Deleted) gone.push_back(r.id);  // the agent removed it
  }
  for (const auto& id : gone) db.execute("DELETE FROM instances WHERE id = ?", id);
  return !gone.empty();
}

void Instances::compact_metrics(std::int64_t now) {
  auto cutoff = (now - kRawKept) / kPoint * kPoint;  // whole 5-minute buckets only
  db_.write([&](store::Connection& db) {
    db.execute(
        "INSERT OR REPLACE INTO instance_metrics (instance_id, resolution, at, cpu_seconds, memory_bytes, pids, "
        "rx_bytes, tx_bytes, uptime_ms) SELECT instance_id, ?, at / ? * ?, MAX(cpu_seconds), "
        "CAST(AVG(memory_bytes) AS INTEGER), MAX(pids), MAX(rx_bytes), MAX(tx_bytes), MAX(uptime_ms) "
        "FROM instance_metrics WHERE resolution = 0 AND at < ? GROUP BY instance_id, at / ?",
        kPoint, kPoint, kPoint, cutoff, kPoint);
    db.execute("DELETE FROM instance_metrics WHERE resolution = 0 AND at < ?", cutoff);
    db.execute("DELETE FROM instance_metrics WHERE resolution = ? AND at < ?", kPoint, now - kPointKept);
  });
}

}  // namespace shardlyn
