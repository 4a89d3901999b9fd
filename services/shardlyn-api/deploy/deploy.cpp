#include "deploy/deploy.hpp"

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "instances/lifecycle.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

using agentproto::InstanceState;

constexpr std::string_view kColumns =
    "SELECT d.id, d.org_id, d.template_id, d.name, d.workload_id, d.instance_id, d.node_id, d.created_by, "
    "d.created_at, i.state, i.state_reason FROM deployments d LEFT JOIN instances i ON i.id = d.instance_id ";

DeploymentRecord from_row(const store::Statement& q) {
  std::optional<InstanceState> state;
  if (auto s = q.text_or_null(9)) state = lifecycle::state_from(*s).value_or(InstanceState::Error);
  return {q.text(0), q.text(1), q.text(2), q.text(3),
          q.text(4), q.text(5), q.text(6), deploy::status_of(state, q.text_or_null(10).value_or("")),
          q.text(7), q.int64(8)};
}

}  // namespace

namespace deploy {

DeploymentStatus status_of(std::optional<InstanceState> state, std::string_view reason) {
  if (!state) return {"deleted", "the instance was deleted"};
  switch (*state) {
    case InstanceState::Creating: return {"pending", std::string(reason)};
    case InstanceState::Installing: return {"installing", std::string(reason)};
    case InstanceState::Starting: return {"starting", std::string(reason)};
    case InstanceState::Running: return {"running", std::string(reason)};
    case InstanceState::InstallFailed:
    case InstanceState::Crashed:
    case InstanceState::Error: return {"failed", std::string(reason)};
    case InstanceState::Stopping:
    case InstanceState::Stopped: return {"stopped", std::string(reason)};
    case InstanceState::Migrating: return {"migrating", std::string(reason)};
    case InstanceState::Deleting: return {"deleting", std::string(reason)};
  }
  return {"failed", std::string(reason)};
}

}  // namespace deploy

DeploymentRecord Deployments::create(const Caller& caller, const NewDeployment& request) {
  auto made = workloads_.from_template(caller, request.template_id, request.name);
  InstanceRecord instance;
  try {
    instance = instances_.create(caller, {made.id, request.name, request.node_id, request.variables, std::nullopt});
  } catch (...) {
    workloads_.remove(caller, made.id);  // a refused variable or no room: no workload stays behind
    throw;
  }
  instances_.act(caller, instance.id, PowerAction::Start);
  auto id = db_.write([&](store::Connection& db) {
    auto new_id = security::uuid_v4();
    db.execute(
        "INSERT INTO deployments (id, org_id, template_id, name, workload_id, instance_id, node_id, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        new_id, caller.org_id, request.template_id, request.name, made.id, instance.id, instance.node_id,
        caller.user_id, store::unix_now());
    audit::record(db, "deployment.created", caller.actor(), caller.org_id, {},
                  {{"deployment_id", new_id}, {"template", request.template_id}, {"instance_id", instance.id}});
    return new_id;
  });
  return get(caller, id);
}

std::vector<DeploymentRecord> Deployments::list(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    std::vector<DeploymentRecord> out;
    auto q = db.prepare(std::string(kColumns) + "WHERE d.org_id = ? ORDER BY d.created_at DESC, d.id");
    q->bind_all(caller.org_id);
    while (q->step()) out.push_back(from_row(*q));
    return out;
  });
}

DeploymentRecord Deployments::get(const Caller& caller, std::string_view id) {
  auto found = db_.read([&](store::Connection& db) -> std::optional<DeploymentRecord> {
    auto q = db.prepare(std::string(kColumns) + "WHERE d.id = ? AND d.org_id = ?");
    q->bind_all(id, caller.org_id);
    if (!q->step()) return std::nullopt;
    return from_row(*q);
  });
  if (!found) throw common::ApiError::not_found("deployment not found");
  return *found;
}

}  // namespace shardlyn
