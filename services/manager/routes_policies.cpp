// Policy routes: publish, active, history, per-agent effective policy and overrides.
#include <boost/json/serialize.hpp>

#include "common/error.hpp"
#include "common/input.hpp"
#include "policy_push.hpp"
#include "routes.hpp"

namespace manager {

void add_policy_routes(common::Service& service, Fleet& fleet) {
  auto& policies = fleet.policies;
  service.add({
      {.method = "POST",
       .path = "/api/policy",
       .auth = "fleet",
       .fields = {"broadcast", "description", "name", "rules"},
       .handler =
           [&policies, &fleet](common::Request& req) {
             const auto body = req.json_object();
             bool broadcast = common::input::optional_boolean(body, "broadcast").value_or(false);
             auto policy = policies.publish(parse_policy(body));
             fleet.events.publish("policy_created",
                                  boost::json::serialize(boost::json::object{{"policyId", policy["policyId"]},
                                                                             {"version", policy["version"]},
                                                                             {"name", policy["name"]},
                                                                             {"appliedTo", policy["appliedTo"]}}));
             if (broadcast) policy["broadcast"] = push_policy(policy, fleet.agents.push_targets(), fleet.push);
             return common::envelope_ok(std::move(policy), 201);
           },
       .offload = true},  // a broadcast waits on agents: never on an I/O thread
      {.method = "GET",
       .path = "/api/policy/active",
       .auth = "fleet",
       .handler =
           [&policies](common::Request&) {
             auto p = policies.active();
             if (!p) throw common::ApiError::not_found("no policy has been published yet");
             return common::envelope_ok(std::move(*p));
           }},
      {.method = "GET",
       .path = "/api/policy/history",
       .auth = "fleet",
       .query = {"limit", "page"},
       .handler =
           [&policies](common::Request& req) {
             auto page = common::parse_page(req);
             auto [items, total] = policies.history(page);
             return common::envelope_page(std::move(items), total, page);
           }},
      {.method = "GET",
       .path = "/api/policy/agent/{id}",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .handler =
           [&policies](common::Request& req) {
             auto p = policies.for_agent(std::string(req.param("id")));
             if (!p) throw common::ApiError::not_found("no policy has been published yet");
             return common::envelope_ok(std::move(*p));
           }},
      {.method = "PUT",
       .path = "/api/policy/agent/{id}",
       .auth = "fleet",
       .fields = {"description", "name", "rules"},
       .handler =
           [&policies](common::Request& req) {
             return common::envelope_ok(
                 policies.override_for(std::string(req.param("id")), parse_policy(req.json_object())));
           }},
      {.method = "DELETE",
       .path = "/api/policy/agent/{id}",
       .auth = "fleet",
       .handler =
           [&policies](common::Request& req) {
             std::string id(req.param("id"));
             if (!policies.clear_override(id)) throw common::ApiError::not_found("this agent has no policy override");
             return common::envelope_ok(boost::json::object{{"agentId", id}, {"override", false}});
           }},
  });
}

}  // namespace manager
