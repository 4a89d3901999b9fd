#pragma once
// The manager's route table, one function per resource.
#include "common/service.hpp"
#include "fleet.hpp"

namespace manager {

void add_agent_routes(common::Service& service, Fleet& fleet);
void add_threat_routes(common::Service& service, Fleet& fleet);
void add_policy_routes(common::Service& service, Fleet& fleet);
void add_stream_routes(common::Service& service, Fleet& fleet);
void add_dashboard_routes(common::Service& service);

}  // namespace manager
