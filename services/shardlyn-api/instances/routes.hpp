#pragma once
// The instances area's route tables: Instance Endpoints (CRUD & Lifecycle, Stats & Monitoring)
// and the agent's desired-state and event routes.
#include "http/route_table.hpp"
#include "instances/instances.hpp"
#include "nodes/runtime_seams.hpp"

namespace shardlyn {

struct InstanceArea {
  Instances& instances;
};

// What the agent routes act through: the desired-state long-poll waits on the node's version.
struct AgentStateArea {
  Instances& instances;
  DesiredVersions& versions;
};

Routes instance_routes(InstanceArea& area);
// GET /v1/agent/desired and POST /v1/agent/events (X-Agent-Token, kAgentAuth).
Routes agent_state_routes(AgentStateArea& area);

}  // namespace shardlyn
