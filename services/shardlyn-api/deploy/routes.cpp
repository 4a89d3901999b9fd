// Deploy (One-Click) Endpoints: the template catalogue by category, and deployments.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "deploy/routes.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "workload/spec.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::value spec_part(const json::object& spec, std::string_view key, json::value fallback) {
  if (const auto* found = spec.if_contains(key)) return *found;
  return fallback;
}

json::object template_json(const WorkloadTemplate& t) {
  auto document = workload::to_json(t.workload);
  const auto& spec = document.as_object().at("spec").as_object();
  json::object requests;
  const auto& r = t.workload.spec.resources.requests;
  requests["cpu_millis"] = json::value_from(r.cpu_millis);
  requests["memory_bytes"] = json::value_from(r.memory_bytes);
  requests["disk_bytes"] = json::value_from(r.disk_bytes);
  return {{"id", t.id},
          {"category", t.category},
          {"name", t.workload.metadata.name},
          {"image", t.workload.spec.image},
          {"variables", spec_part(spec, "variables", json::array())},
          {"ports", spec_part(spec, "ports", json::array())},
          {"requests", std::move(requests)}};
}

json::object deployment_json(const DeploymentRecord& d) {
  return {{"id", d.id},
          {"organization_id", d.org_id},
          {"template", d.template_id},
          {"name", d.name},
          {"workload_id", d.workload_id},
          {"instance_id", d.instance_id},
          {"node_id", d.node_id},
          {"status", d.status.status},
          {"status_reason", d.status.reason},
          {"created_by", d.created_by},
          {"created_at", common::rfc3339_from_unix(d.created_at)}};
}

common::Response list_templates(DeployArea&, common::Request& req) {
  json::array items;
  for (const auto& t : workloads::templates()) items.push_back(template_json(t));
  return list_page(req, std::move(items));
}

common::Response templates_in_category(DeployArea&, common::Request& req) {
  auto category = req.param("category");
  json::array items;
  for (const auto& t : workloads::templates())
    if (t.category == category) items.push_back(template_json(t));
  if (items.empty()) throw common::ApiError::not_found("no template category '" + std::string(category) + "'");
  return list_page(req, std::move(items));
}

std::map<std::string, std::string> variables_of(const json::object& body) {
  std::map<std::string, std::string> out;
  const auto* given = body.if_contains("variables");
  if (!given || given->is_null()) return out;
  if (!given->is_object()) throw common::ApiError::validation("variables: must be an object of strings");
  for (const auto& [k, v] : given->as_object()) {
    if (!v.is_string()) throw common::ApiError::validation("variables." + std::string(k) + ": must be a string");
    out[std::string(k)] = std::string(v.as_string());
  }
  return out;
}

common::Response create_deployment(DeployArea& area, common::Request& req) {
  auto body = req.json_object();
  NewDeployment d;
  d.template_id = common::input::text(body, "template", {.min = 1, .max = 64});
  d.name = common::input::text(body, "name", {.min = 1, .max = 128});
  d.variables = variables_of(body);
  if (body.if_contains("node_id") && !body.at("node_id").is_null())
    d.node_id = common::input::text(body, "node_id", {.min = 1, .max = 64});
  return common::Response::json(deployment_json(area.deployments.create(caller_of(req), d)), 201);
}

common::Response list_deployments(DeployArea& area, common::Request& req) {
  json::array items;
  for (const auto& d : area.deployments.list(caller_of(req))) items.push_back(deployment_json(d));
  return list_page(req, std::move(items));
}

common::Response show_deployment(DeployArea& area, common::Request& req) {
  auto id = fields::uuid_param(req, "id", "deployment");
  return common::Response::json(deployment_json(area.deployments.get(caller_of(req), id)));
}

}  // namespace

Routes deploy_routes(DeployArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  auto deploys = group("/v1/deploy", member,
                       {
                           get("", "instances.read", bind(area, list_deployments),
                               {.query = {"limit", "page", "per_page"}}),
                           post("", "instances.create", bind(area, create_deployment),
                                {.fields = {"name", "node_id", "template", "variables"}}),
                           get("/{id}", "instances.read", bind(area, show_deployment)),
                       });
  auto catalogue = group("/v1/templates", member,
                         {
                             get("", "workloads.read", bind(area, list_templates), {.query = {"limit", "page", "per_page"}}),
                             get("/{category}", "workloads.read", bind(area, templates_in_category),
                                 {.query = {"limit", "page", "per_page"}}),
                         });
  for (auto& r : catalogue) deploys.push_back(std::move(r));
  return deploys;
}

}  // namespace shardlyn
