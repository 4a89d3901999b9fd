#pragma once
// The manager's route table, one function per resource.
#include "agents.hpp"
#include "common/service.hpp"
#include "threats.hpp"

namespace manager {

void add_agent_routes(common::Service& service, Agents& agents);
void add_threat_routes(common::Service& service, Agents& agents, Threats& threats);

}  // namespace manager
