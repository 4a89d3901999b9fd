// Workload Endpoints: the spec as JSON or YAML in and out, templates and egg import.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "workloads/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::size_t kDocumentLimit = 1 << 20;  // a spec or an egg (eggs carry install scripts)

json::object workload_json(const WorkloadRecord& w) {
  return {{"id", w.id},
          {"name", w.workload.metadata.name},
          {"organization_id", w.org_id},
          {"source", w.source},
          {"spec", workload::to_json(w.workload)},
          {"created_at", common::rfc3339_from_unix(w.created_at)},
          {"updated_at", common::rfc3339_from_unix(w.updated_at)}};
}

std::string workload_id(const common::Request& req) { return fields::uuid_param(req, "id", "workload"); }

common::Response list_workloads(WorkloadArea& area, common::Request& req) {
  json::array items;
  for (const auto& w : area.workloads.list(caller_of(req))) items.push_back(workload_json(w));
  return list_page(req, std::move(items));
}

common::Response create_workload(WorkloadArea& area, common::Request& req) {
  return common::Response::json(workload_json(area.workloads.create(caller_of(req), req.body)), 201);
}

common::Response show_workload(WorkloadArea& area, common::Request& req) {
  return common::Response::json(workload_json(area.workloads.get(caller_of(req), workload_id(req))));
}

common::Response update_workload(WorkloadArea& area, common::Request& req) {
  auto id = workload_id(req);
  DesiredBumps bumps(area.versions);
  auto updated = area.workloads.update(caller_of(req), id, req.body, [&](store::Connection& db, const auto& changed) {
    area.instances.check_workload(db, id, changed, bumps);
  });
  bumps.publish();
  return common::Response::json(workload_json(updated));
}

common::Response delete_workload(WorkloadArea& area, common::Request& req) {
  area.workloads.remove(caller_of(req), workload_id(req));
  return common::Response::empty(204);
}

common::Response export_workload(WorkloadArea& area, common::Request& req) {
  auto format = common::input::query_one_of(req, "format", {"yaml", "json"}).value_or("yaml");
  auto w = area.workloads.get(caller_of(req), workload_id(req));
  if (format == "json") return common::Response::text(workload::to_json_text(w.workload) + "\n", "application/json");
  return common::Response::text(workload::to_yaml(w.workload), "application/yaml");
}

common::Response workload_from_template(WorkloadArea& area, common::Request& req) {
  auto body = req.json_object();
  auto id = common::input::text(body, "template", {.min = 1, .max = 64});
  auto name = common::input::optional_text(body, "name", {.min = 1, .max = 128});
  return common::Response::json(workload_json(area.workloads.from_template(caller_of(req), id, name)), 201);
}

common::Response import_egg(WorkloadArea& area, common::Request& req) {
  return common::Response::json(workload_json(area.workloads.import_egg(caller_of(req), req.body)), 201);
}

}  // namespace

Routes workload_routes(WorkloadArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  const RouteOptions document{.fields = {"*"}, .body_limit = kDocumentLimit};
  return group("/v1/workloads", member,
               {
                   get("", "workloads.read", bind(area, list_workloads), {.query = {"limit", "page", "per_page"}}),
                   post("", "workloads.create", bind(area, create_workload), document),
                   get("/{id}", "workloads.read", bind(area, show_workload)),
                   put("/{id}", "workloads.update", bind(area, update_workload), document),
                   del("/{id}", "workloads.delete", bind(area, delete_workload)),
                   get("/{id}/export", "workloads.read", bind(area, export_workload), {.query = {"format"}}),
                   post("/from-template", "workloads.create", bind(area, workload_from_template),
                        {.fields = {"name", "template"}}),
                   post("/import-egg", "workloads.create", bind(area, import_egg), document),
               });
}

}  // namespace shardlyn
