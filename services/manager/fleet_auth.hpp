#pragma once
// Who may call the manager: the fleet token (MANAGER_AUTH_TOKEN; generated into
// DATA_DIR/secrets in development) for everything; an agent's own token for that agent's
// routes. No address is ever trusted: every caller presents a token.
#include <string>

#include "agents.hpp"
#include "common/service.hpp"
#include "settings.hpp"

namespace manager {

// Registers the "fleet", "fleet_stream" and "agent" authenticators. Routes naming "agent"
// must have an {id} path parameter: the agent token is accepted for that agent only (a valid
// agent token elsewhere is 403, an unknown token 401). "fleet_stream" also takes the fleet
// token as ?token=, because browsers' EventSource cannot send an Authorization header.
void install_fleet_auth(common::Service& service, std::string fleet_token, Agents& agents);

// The fleet token: MANAGER_AUTH_TOKEN, or in development one generated once into
// DATA_DIR/secrets/MANAGER_AUTH_TOKEN, with a dashboard sign-in link in the log.
std::string fleet_token(common::Service& service, const Settings& settings);

}  // namespace manager
