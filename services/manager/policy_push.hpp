#pragma once
// Pushing a policy to the agents that registered an endpoint: POST <endpoint>/api/policy/push
// with {policy, timestamp}, signed so the agent can tell it comes from its manager:
// X-Manager-Signature: sha256=hex(HMAC-SHA256(key = hex(SHA-256(agent token)), body)).
// Bounded concurrency, a timeout per call and one retry; a per-agent report comes back.
#include <chrono>
#include <vector>

#include <boost/json/object.hpp>

#include "agents.hpp"

namespace manager {

struct PushSettings {
  std::size_t concurrency = 8;
  std::chrono::milliseconds timeout{5000};
  int attempts = 2;  // the first try and one retry
};

boost::json::object push_policy(const boost::json::object& policy, const std::vector<Agents::PushTarget>& targets,
                                const PushSettings& settings);

}  // namespace manager
