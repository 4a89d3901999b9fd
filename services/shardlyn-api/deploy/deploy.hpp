#pragma once
// Deploy (One-Click) Endpoints' rules: a shipped template (workloads::templates()) becomes a
// workload and an instance on the best node (the instances' placement), started at once; the
// deployment's status follows its instance (decision 0040).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agentproto/messages.hpp"
#include "http/access.hpp"
#include "instances/instances.hpp"
#include "store/database.hpp"
#include "workloads/workloads.hpp"

namespace shardlyn {

struct DeploymentStatus {
  std::string status;  // pending | installing | starting | running | stopped | failed | ...
  std::string reason;  // the instance's state reason (why it failed)
};

struct DeploymentRecord {
  std::string id;
  std::string org_id;
  std::string template_id;
  std::string name;
  std::string workload_id;
  std::string instance_id;
  std::string node_id;
  DeploymentStatus status;
  std::string created_by;
  std::int64_t created_at = 0;
};

struct NewDeployment {
  std::string template_id;
  std::string name;
  std::map<std::string, std::string> variables;
  std::optional<std::string> node_id;
};

namespace deploy {

// The deployment's status for its instance's state; nullopt: the instance is gone ("deleted").
DeploymentStatus status_of(std::optional<agentproto::InstanceState> state, std::string_view reason);

}  // namespace deploy

class Deployments {
 public:
  Deployments(store::Database& db, Workloads& workloads, Instances& instances)
      : db_(db), workloads_(workloads), instances_(instances) {}

  // 404 for an unknown template or node, 400 naming a variable that breaks its rules, 409 when
  // the name is taken or no node fits; nothing is left behind when it fails.
  DeploymentRecord create(const Caller& caller, const NewDeployment& request);
  std::vector<DeploymentRecord> list(const Caller& caller);
  DeploymentRecord get(const Caller& caller, std::string_view id);

 private:
  store::Database& db_;
  Workloads& workloads_;
  Instances& instances_;
};

}  // namespace shardlyn
