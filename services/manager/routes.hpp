#pragma once
// The manager's route table, one function per resource.
#include "agents.hpp"
#include "common/service.hpp"
#include "policies.hpp"
#include "threats.hpp"

namespace manager {

void add_agent_routes(common::Service& service, Agents& agents, Policies& policies);
void add_threat_routes(common::Service& service, Agents& agents, Threats& threats);
void add_policy_routes(common::Service& service, Policies& policies);

}  // namespace manager
