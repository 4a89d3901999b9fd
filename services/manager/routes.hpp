#pragma once
// The manager's route tables, one function per resource (routes_<resource>.cpp), each a list
// of named handlers in the order of the API reference. Auth schemes: "fleet",
// "fleet_stream", "agent" (fleet_auth.hpp); limit classes: "agent" and the static bucket.
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "common/router.hpp"
#include "common/service.hpp"
#include "fleet.hpp"
#include "json_text.hpp"

namespace manager {

std::vector<common::Route> agent_routes(Fleet& fleet);
std::vector<common::Route> threat_routes(Fleet& fleet);
std::vector<common::Route> policy_routes(Fleet& fleet);
std::vector<common::Route> stream_routes(Fleet& fleet);
std::vector<common::Route> dashboard_routes();

// The API shapes of the domain's records (agent and metric sample: routes_agents.cpp; threat:
// routes_threats.cpp; policy: routes_policies.cpp).
// Each shape is written once, as text (write_*, what the hot paths answer with); *_json reads
// that text back for the routes that compose boost::json values.
void write_agent(JsonObjectText& out, const Agent& agent);
void write_threat(JsonObjectText& out, const Threat& threat);
boost::json::object agent_json(const Agent& agent);
boost::json::object threat_json(const Threat& threat);
boost::json::object policy_json(const Policy& policy);

inline boost::json::value text_or_null(const std::optional<std::string>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

}  // namespace manager
