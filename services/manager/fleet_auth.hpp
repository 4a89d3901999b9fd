#pragma once
// Who may call the manager: the fleet token (MANAGER_AUTH_TOKEN) for everything; an agent's
// own token for that agent's routes; without a fleet token, loopback clients only.
#include <optional>
#include <string>

#include "agents.hpp"
#include "common/service.hpp"

namespace manager {

// Registers the "fleet", "fleet_stream" and "agent" authenticators. Routes naming "agent"
// must have an {id} path parameter: the agent token is accepted for that agent only.
// "fleet_stream" also takes the fleet token as ?token=, because browsers' EventSource cannot
// send an Authorization header.
void install_fleet_auth(common::Service& service, std::optional<std::string> fleet_token, Agents& agents);

}  // namespace manager
