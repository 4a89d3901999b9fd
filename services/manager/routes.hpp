#pragma once
// The manager's route table, one function per resource.
#include "agents.hpp"
#include "common/service.hpp"

namespace manager {

void add_agent_routes(common::Service& service, Agents& agents);

}  // namespace manager
