// Policy routes: publish, history, active, per-agent effective policy and overrides.
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "policy_push.hpp"
#include "routes.hpp"

namespace manager {

namespace {

common::ApiError no_policy() { return common::ApiError::not_found("no policy has been published yet"); }

common::Response publish_policy(Fleet& fleet, common::Request& req) {
  const auto body = req.json_object();
  bool broadcast = common::input::optional_boolean(body, "broadcast").value_or(false);
  auto policy = fleet.policies.publish(parse_policy(body));
  fleet.events.publish("policy_created",
                       boost::json::serialize(boost::json::object{{"policyId", policy.id},
                                                                  {"version", policy.version},
                                                                  {"name", policy.name},
                                                                  {"appliedTo", *policy.applied_to}}));
  auto out = policy_json(policy);
  if (broadcast) out["broadcast"] = push_policy(policy_json(policy), fleet.agents.push_targets(), fleet.push);
  return common::envelope_ok(std::move(out), 201);
}

common::Response policy_history(Fleet& fleet, common::Request& req) {
  auto page = common::parse_page(req);
  auto [policies, total] = fleet.policies.history(page);
  boost::json::array items;
  for (const auto& p : policies) items.push_back(policy_json(p));
  return common::envelope_page(std::move(items), total, page);
}

common::Response active_policy(Fleet& fleet, common::Request&) {
  auto p = fleet.policies.active();
  if (!p) throw no_policy();
  return common::envelope_ok(policy_json(*p));
}

common::Response agent_policy(Fleet& fleet, common::Request& req) {
  auto p = fleet.policies.for_agent(std::string(req.param("id")));
  if (!p) throw no_policy();
  return common::envelope_ok(policy_json(*p));
}

common::Response override_agent_policy(Fleet& fleet, common::Request& req) {
  return common::envelope_ok(
      policy_json(fleet.policies.override_for(std::string(req.param("id")), parse_policy(req.json_object()))));
}

common::Response clear_agent_policy(Fleet& fleet, common::Request& req) {
  std::string id(req.param("id"));
  if (!fleet.policies.clear_override(id)) throw common::ApiError::not_found("this agent has no policy override");
  return common::envelope_ok(boost::json::object{{"agentId", id}, {"override", false}});
}

}  // namespace

boost::json::object policy_json(const Policy& p) {
  boost::json::object out{{"policyId", p.id},
                          {"version", p.version},
                          {"scope", p.scope},
                          {"name", p.name},
                          {"description", text_or_null(p.description)},
                          {"rules", p.rules},
                          {"updatedAt", common::rfc3339_from_unix(p.updated_at)}};
  if (p.applied_to) out["appliedTo"] = *p.applied_to;
  return out;
}

std::vector<common::Route> policy_routes(Fleet& fleet) {
  using common::Request;
  return {
      // A broadcast waits on agents: never on an I/O thread.
      {.method = "POST",
       .path = "/api/policy",
       .auth = "fleet",
       .fields = {"broadcast", "description", "name", "rules"},
       .handler = [&fleet](Request& r) { return publish_policy(fleet, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/policy/history",
       .auth = "fleet",
       .query = {"limit", "page"},
       .handler = [&fleet](Request& r) { return policy_history(fleet, r); }},
      {.method = "GET",
       .path = "/api/policy/active",
       .auth = "fleet",
       .handler = [&fleet](Request& r) { return active_policy(fleet, r); }},
      {.method = "GET",
       .path = "/api/policy/agent/{id}",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .handler = [&fleet](Request& r) { return agent_policy(fleet, r); }},
      {.method = "PUT",
       .path = "/api/policy/agent/{id}",
       .auth = "fleet",
       .fields = {"description", "name", "rules"},
       .handler = [&fleet](Request& r) { return override_agent_policy(fleet, r); }},
      {.method = "DELETE",
       .path = "/api/policy/agent/{id}",
       .auth = "fleet",
       .handler = [&fleet](Request& r) { return clear_agent_policy(fleet, r); }},
  };
}

}  // namespace manager
