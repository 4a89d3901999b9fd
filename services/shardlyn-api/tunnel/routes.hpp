#pragma once
// The tunnel area's route tables: the agent's tunnel (GET /v1/agent/tunnel, X-Agent-Token) and
// Tunnel Endpoints (admin: statistics and the connected agents).
#include "http/route_table.hpp"
#include "tunnel/hub.hpp"

namespace shardlyn {

Routes tunnel_routes(TunnelHub& hub);
// GET /v1/agent/tunnel (kAgentAuth): added as it is, like the other agent routes.
Routes agent_tunnel_routes(TunnelHub& hub);

}  // namespace shardlyn
