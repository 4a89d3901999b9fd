#include "instances/instances.hpp"

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "instances/lifecycle.hpp"
#include "instances/rows.hpp"
#include "security/random.hpp"
#include "store/time.hpp"
#include "workload/placement.hpp"
#include "workload/resolve.hpp"
#include "workloads/workloads.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::InstanceState;
using agentproto::PowerState;

namespace {

std::string actor_of(const Caller& caller) {
  return caller.token_id.empty() ? "user:" + caller.user_id : "token:" + caller.token_id;
}

common::ApiError instance_not_found() { return common::ApiError::not_found("instance not found"); }

void check_user_variables(const workload::WorkloadSpec& spec, const std::map<std::string, std::string>& values) {
  try {
    workload::check_variables(spec, values);
  } catch (const workload::SpecError& e) {
    std::string message;
    for (const auto& err : e.errors()) message += (message.empty() ? "" : "; ") + ("variables." + err.field) + ": " + err.message;
    throw common::ApiError::validation(message);
  }
}

void refuse_taken_name(store::Connection& db, std::string_view org, std::string_view name, std::string_view except) {
  if (db.query_int("SELECT 1 FROM instances WHERE org_id = ? AND name = ? AND id != ?", org, name, except))
    throw common::ApiError::conflict("an instance named '" + std::string(name) + "' exists in this organization");
}

std::vector<Transition> transitions_of(store::Connection& db, std::string_view id, std::size_t limit) {
  std::vector<Transition> out;
  auto q = db.prepare(
      "SELECT from_state, to_state, reason, actor, at FROM instance_transitions WHERE instance_id = ? "
      "ORDER BY id DESC LIMIT ?");
  q->bind_all(id, static_cast<std::int64_t>(limit));
  while (q->step()) {
    std::optional<InstanceState> from;
    if (auto f = q->text_or_null(0)) from = lifecycle::state_from(*f);
    out.push_back({from, lifecycle::state_from(q->text(1)).value_or(InstanceState::Error), q->text(2), q->text(3),
                   q->int64(4)});
  }
  return out;
}

std::vector<CrashRecord> crashes_of(store::Connection& db, std::string_view id, std::size_t limit) {
  std::vector<CrashRecord> out;
  auto q = db.prepare(
      "SELECT exit_code, oom_killed, reason, last_lines, at FROM instance_crashes WHERE instance_id = ? "
      "ORDER BY id DESC LIMIT ?");
  q->bind_all(id, static_cast<std::int64_t>(limit));
  while (q->step()) {
    CrashRecord c;
    if (auto code = q->int64_or_null(0)) c.exit_code = static_cast<int>(*code);
    c.oom_killed = q->int64(1) != 0;
    c.reason = q->text(2);
    auto lines = json::parse(q->text(3));
    for (const auto& line : lines.as_array()) c.last_lines.emplace_back(line.as_string());
    c.at = q->int64(4);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::vector<InstanceRecord> Instances::list(const Caller& caller, const std::optional<std::string>& node_id,
                                            const std::optional<std::string>& workload_id) {
  auto all = db_.read([&](store::Connection& db) { return instance_rows::where(db, "org_id", caller.org_id); });
  std::erase_if(all, [&](const InstanceRecord& r) {
    return (node_id && r.node_id != *node_id) || (workload_id && r.workload_id != *workload_id);
  });
  return all;
}

InstanceRecord Instances::get(const Caller& caller, std::string_view id) {
  return db_.read([&](store::Connection& db) {
    auto found = instance_rows::find_in(db, caller.org_id, id);
    if (!found) throw instance_not_found();
    found->transitions = transitions_of(db, id, kShownTransitions);
    found->crashes = crashes_of(db, id, kShownCrashes);
    return *found;
  });
}

std::string Instances::place(const Caller& caller, const std::optional<std::string>& node_id,
                             const workload::Capacity& request, store::Connection& db) {
  std::vector<NodeCapacity> candidates;
  if (node_id) {
    auto node = nodes_.node(caller.org_id, *node_id);
    if (!node) throw common::ApiError::not_found("node not found");
    if (!node->schedulable)
      throw common::ApiError::conflict("node '" + node->name + "' is not schedulable (" + node->status +
                                       ", or cordoned or draining)");
    candidates.push_back(*node);
  } else {
    candidates = nodes_.nodes_of(caller.org_id);
    if (candidates.empty()) throw common::ApiError::conflict("the organization has no nodes; register one first");
  }
  std::vector<workload::NodeLoad> loads;
  for (const auto& n : candidates) {
    workload::NodeLoad load{n.node_id, n.schedulable,
                            {static_cast<std::int64_t>(n.cpu_count) * 1000, static_cast<std::int64_t>(n.memory_bytes),
                             static_cast<std::int64_t>(n.disk_bytes)},
                            {}};
    auto q = db.prepare(
        "SELECT COALESCE(SUM(req_cpu_millis), 0), COALESCE(SUM(req_memory_bytes), 0), COALESCE(SUM(req_disk_bytes), 0) "
        "FROM instances WHERE node_id = ?");
    q->bind_all(n.node_id);
    if (q->step()) load.allocated = {q->int64(0), q->int64(1), q->int64(2)};
    loads.push_back(load);
  }
  auto placed = workload::place(request, loads);
  if (!placed.node_id) throw common::ApiError::conflict("no node fits the instance: " + placed.reason);
  return *placed.node_id;
}

InstanceRecord Instances::create(const Caller& caller, const NewInstance& request) {
  return write_bumping([&](store::Connection& db, DesiredBumps& bumps) {
    auto w = workloads::find(db, caller.org_id, request.workload_id);
    if (!w) throw common::ApiError::not_found("workload not found");
    auto effective = instance_rows::effective(w->workload, request.resources);
    check_user_variables(effective.spec, request.variables);
    refuse_taken_name(db, caller.org_id, request.name, "");
    auto req = workload::request_of(effective.spec.resources.requests);
    auto node = place(caller, request.node_id, req, db);
    auto id = security::uuid_v4();
    auto now = store::unix_now();
    db.execute(
        "INSERT INTO instances (id, org_id, workload_id, node_id, name, variables, resources, req_cpu_millis, "
        "req_memory_bytes, req_disk_bytes, state, state_reason, state_at, desired_power, created_by, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'creating', 'created', ?, 'stopped', ?, ?, ?)",
        id, caller.org_id, w->id, node, request.name, instance_rows::to_json_text(request.variables),
        request.resources ? std::optional<std::string>(json::serialize(*request.resources)) : std::nullopt,
        req.cpu_millis, req.memory_bytes, req.disk_bytes, now, caller.user_id, now, now);
    db.execute(
        "INSERT INTO instance_transitions (instance_id, from_state, to_state, reason, actor, at) "
        "VALUES (?, NULL, 'creating', 'created', ?, ?)",
        id, actor_of(caller), now);
    audit::record(db, "instance.created", caller.actor(), caller.org_id, {}, {{"instance_id", id}, {"node_id", node}});
    bumps.bump(db, node);
    return *instance_rows::find(db, id);
  });
}

InstanceRecord Instances::update(const Caller& caller, std::string_view id, const InstanceChanges& changes) {
  return write_bumping([&](store::Connection& db, DesiredBumps& bumps) {
    auto r = instance_rows::find_in(db, caller.org_id, id);
    if (!r) throw instance_not_found();
    if (r->desired == PowerState::Deleted) throw common::ApiError::conflict("the instance is being deleted");
    auto w = workloads::find(db, caller.org_id, r->workload_id);
    auto resources = changes.resources ? changes.resources : r->resources;
    auto effective = instance_rows::effective(w->workload, resources);
    auto variables = changes.variables.value_or(r->variables);
    check_user_variables(effective.spec, variables);
    auto name = changes.name.value_or(r->name);
    refuse_taken_name(db, caller.org_id, name, id);
    auto req = workload::request_of(effective.spec.resources.requests);
    db.execute(
        "UPDATE instances SET name = ?, variables = ?, resources = ?, req_cpu_millis = ?, req_memory_bytes = ?, "
        "req_disk_bytes = ?, updated_at = ? WHERE id = ?",
        name, instance_rows::to_json_text(variables),
        resources ? std::optional<std::string>(json::serialize(*resources)) : std::nullopt, req.cpu_millis,
        req.memory_bytes, req.disk_bytes, store::unix_now(), id);
    audit::record(db, "instance.updated", caller.actor(), caller.org_id, {}, {{"instance_id", id}});
    bumps.bump(db, r->node_id);
    return *instance_rows::find(db, id);
  });
}

InstanceRecord Instances::remove(const Caller& caller, std::string_view id) {
  return write_bumping([&](store::Connection& db, DesiredBumps& bumps) {
    auto r = instance_rows::find_in(db, caller.org_id, id);
    if (!r) throw instance_not_found();
    auto plan = lifecycle::plan_delete({r->state, r->desired});
    if (!plan.changes()) return *r;
    db.execute("UPDATE instances SET desired_power = 'deleted' WHERE id = ?", id);
    r->desired = PowerState::Deleted;
    instance_rows::set_state(db, *r, InstanceState::Deleting, "delete requested", actor_of(caller), store::unix_now());
    audit::record(db, "instance.deleted", caller.actor(), caller.org_id, {}, {{"instance_id", id}});
    bumps.bump(db, r->node_id);
    return *r;
  });
}

InstanceRecord Instances::act(const Caller& caller, std::string_view id, PowerAction action) {
  auto actor = caller.actor();
  return apply_power(caller.org_id, id, action, actor_of(caller), &actor);
}

InstanceRecord Instances::apply_power(const std::string& org_id, std::string_view id, PowerAction action,
                                      const std::string& actor, const audit::Actor* audited) {
  bool state_changed = false;
  auto record = write_bumping([&](store::Connection& db, DesiredBumps& bumps) {
    auto r = instance_rows::find_in(db, org_id, id);
    if (!r) throw instance_not_found();
    auto plan = lifecycle::plan({r->state, r->desired}, action);
    if (!plan.changes()) return *r;
    r->desired = plan.desired;
    r->restart_generation += plan.bump_restart ? 1 : 0;
    r->kill_generation += plan.bump_kill ? 1 : 0;
    db.execute(
        "UPDATE instances SET desired_power = ?, restart_generation = ?, kill_generation = ?, updated_at = ? "
        "WHERE id = ?",
        agentproto::to_string(r->desired), static_cast<std::int64_t>(r->restart_generation),
        static_cast<std::int64_t>(r->kill_generation), store::unix_now(), id);
    state_changed = plan.state && *plan.state != r->state;
    if (plan.state)
      instance_rows::set_state(db, *r, *plan.state, std::string(lifecycle::to_string(action)) + " requested", actor,
                               store::unix_now());
    if (audited)
      audit::record(db, std::string("instance.") + lifecycle::to_string(action), *audited, org_id, {},
                    {{"instance_id", id}});
    bumps.bump(db, r->node_id);
    return *r;
  });
  if (state_changed) announce({{record.id, record.state}});
  return record;
}

void Instances::announce(const std::vector<std::pair<std::string, InstanceState>>& states) const {
  for (const auto& [id, state] : states)
    for (const auto& listener : listeners_) listener(id, agentproto::to_string(state));
}

std::vector<MetricPoint> Instances::history(const Caller& caller, std::string_view id, const MetricsQuery& query) {
  return db_.read([&](store::Connection& db) {
    if (!instance_rows::find_in(db, caller.org_id, id)) throw instance_not_found();
    std::vector<MetricPoint> out;
    auto q = db.prepare(
        "SELECT at, cpu_seconds, memory_bytes, pids, rx_bytes, tx_bytes, uptime_ms FROM instance_metrics "
        "WHERE instance_id = ? AND resolution = ? AND at BETWEEN ? AND ? ORDER BY at");
    q->bind_all(id, static_cast<std::int64_t>(query.resolution), query.from, query.to);
    while (q->step()) {
      MetricPoint p{q->int64(0),
                    q->real(1),
                    std::nullopt,
                    static_cast<std::uint64_t>(q->int64(2)),
                    static_cast<std::uint64_t>(q->int64(3)),
                    static_cast<std::uint64_t>(q->int64(4)),
                    static_cast<std::uint64_t>(q->int64(5)),
                    static_cast<std::uint64_t>(q->int64(6))};
      if (!out.empty() && p.at > out.back().at && p.cpu_seconds >= out.back().cpu_seconds)
        p.cpu_usage = (p.cpu_seconds - out.back().cpu_seconds) / static_cast<double>(p.at - out.back().at);
      out.push_back(p);
    }
    return out;
  });
}

void Instances::check_workload(store::Connection& db, const std::string& workload_id,
                               const workload::Workload& changed, DesiredBumps& bumps) {
  for (const auto& r : instance_rows::where(db, "workload_id", workload_id)) {
    try {
      instance_rows::for_agent(r, changed);
    } catch (const workload::SpecError& e) {
      throw common::ApiError::conflict("instance '" + r.name + "' would no longer resolve: " + e.what());
    } catch (const common::ApiError& e) {
      throw common::ApiError::conflict("instance '" + r.name + "' would no longer resolve: " + e.what());
    }
    bumps.bump(db, r.node_id);
  }
}

DrainOutcome Instances::drain(store::Connection& db, const std::string& node_id,
                              std::chrono::system_clock::time_point deadline, DesiredBumps& bumps) {
  DrainOutcome out;
  auto reason = "node drained (deadline " + common::rfc3339(deadline) + ")";
  for (auto& r : instance_rows::where(db, "node_id", node_id)) {
    lifecycle::PowerPlan plan;
    try {
      plan = lifecycle::plan({r.state, r.desired}, PowerAction::Stop);
    } catch (const common::ApiError&) {
      continue;  // deleting or migrating: nothing to stop
    }
    if (!plan.changes()) continue;
    db.execute("UPDATE instances SET desired_power = 'stopped', updated_at = ? WHERE id = ?", store::unix_now(), r.id);
    if (plan.state) instance_rows::set_state(db, r, *plan.state, reason, "node", store::unix_now());
    out.stopped.push_back(r.id);
  }
  if (!out.stopped.empty()) bumps.bump(db, node_id);
  return out;
}

std::vector<std::string> Instances::kill_stopping(store::Connection& db, const std::string& node_id,
                                                  DesiredBumps& bumps) {
  std::vector<std::string> killed;
  for (auto& r : instance_rows::where(db, "node_id", node_id)) {
    if (r.state != InstanceState::Stopping || r.desired != PowerState::Stopped) continue;
    db.execute("UPDATE instances SET kill_generation = kill_generation + 1, updated_at = ? WHERE id = ?",
               store::unix_now(), r.id);
    killed.push_back(r.id);
  }
  if (!killed.empty()) bumps.bump(db, node_id);
  return killed;
}

std::vector<std::string> Instances::forget_deletes_on_offline_nodes() {
  auto deleting = db_.read([&](store::Connection& db) { return instance_rows::where(db, "desired_power", "deleted"); });
  std::erase_if(deleting, [&](const InstanceRecord& r) {
    auto node = nodes_.node(r.org_id, r.node_id);
    return node && node->status != "offline";
  });
  if (deleting.empty()) return {};
  return write_bumping([&](store::Connection& db, DesiredBumps& bumps) {
    std::vector<std::string> forgotten;
    for (const auto& r : deleting) {
      if (db.execute("DELETE FROM instances WHERE id = ? AND desired_power = 'deleted'", r.id) == 0) continue;
      audit::record(db, "instance.delete_completed_offline", audit::Actor{}, r.org_id, {},
                    {{"instance_id", r.id}, {"node_id", r.node_id}});
      bumps.bump(db, r.node_id);
      forgotten.push_back(r.id);
    }
    return forgotten;
  });
}

std::size_t Instances::count_on(store::Connection& db, const std::string& node_id) const {
  return static_cast<std::size_t>(db.query_int("SELECT COUNT(*) FROM instances WHERE node_id = ?", node_id).value_or(0));
}

namespace {
InstanceRef ref_of(const InstanceRecord& r) {
  return {r.id, r.org_id, r.node_id, agentproto::to_string(r.state), r.stats, r.stats_at.value_or(0)};
}
}  // namespace

std::optional<InstanceRef> Instances::find(const std::string& org_id, const std::string& instance_id) const {
  auto r = db_.read([&](store::Connection& db) { return instance_rows::find_in(db, org_id, instance_id); });
  if (!r) return std::nullopt;
  return ref_of(*r);
}

std::optional<InstanceRef> Instances::find_any(const std::string& instance_id) const {
  auto r = db_.read([&](store::Connection& db) { return instance_rows::find(db, instance_id); });
  if (!r) return std::nullopt;
  return ref_of(*r);
}

std::vector<InstanceRef> Instances::running_on(const std::string& node_id) const {
  auto rows = db_.read([&](store::Connection& db) { return instance_rows::where(db, "node_id", node_id); });
  std::vector<InstanceRef> out;
  for (const auto& r : rows)
    if (r.desired == agentproto::PowerState::Running)
      out.push_back(ref_of(r));
  return out;
}

void Instances::power(const std::string& org_id, const std::string& instance_id, PowerAction action,
                      const std::string& actor, const audit::Actor* audited) {
  apply_power(org_id, instance_id, action, actor, audited);
}

}  // namespace shardlyn
