#pragma once
// The Node Endpoints' route table and the agent routes of registration and heartbeats.
#include "http/route_table.hpp"
#include "nodes/nodes.hpp"

namespace shardlyn {

// Node Endpoints (guarded like every user route).
Routes node_routes(Nodes& nodes);
// POST /v1/agent/register (the one-time token in the body) and POST /v1/agent/heartbeat
// (kAgentAuth). Added to the service as they are: their caller is an agent, not a user.
Routes agent_node_routes(Agents& agents);

}  // namespace shardlyn
