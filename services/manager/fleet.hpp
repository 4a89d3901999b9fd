#pragma once
// Everything the manager's routes work with: the domain objects and the event stream.
#include <chrono>

#include "agents.hpp"
#include "common/event_hub.hpp"
#include "policies.hpp"
#include "policy_push.hpp"
#include "threats.hpp"

namespace manager {

struct Fleet {
  Fleet(store::Database& db, AgentSettings agent_settings, ThreatSettings threat_settings)
      : agents(db, agent_settings), threats(db, threat_settings), policies(db) {}

  Agents agents;
  Threats threats;
  Policies policies;
  common::EventHub events;
  PushSettings push;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace manager
