// Backup Configuration Endpoints: S3-compatible storages of the organisation, the secret
// write-only, and bucket listing and creation through the S3 API.
#include <boost/json.hpp>

#include "backups/routes.hpp"
#include "common/clock.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

const std::vector<std::string> kConfigFields = {"name",          "endpoint",          "region",     "bucket",
                                                "access_key_id", "secret_access_key", "path_style", "part_size_mb"};

json::object config_json(const BackupConfigRecord& c) {
  return {{"id", c.id},
          {"organization_id", c.org_id},
          {"name", c.name},
          {"endpoint", c.endpoint},
          {"region", c.region},
          {"bucket", c.bucket},
          {"access_key_id", c.access_key_id},
          {"path_style", c.path_style},
          {"part_size_mb", c.part_size_mb},
          {"active", c.active},
          {"has_secret", true},
          {"created_at", common::rfc3339_from_unix(c.created_at)},
          {"updated_at", common::rfc3339_from_unix(c.updated_at)}};
}

BackupConfigInput config_input(const common::Request& req, bool creating) {
  auto body = req.json_object();
  auto required = [&](std::string_view field, common::input::Text rule) {
    return creating ? std::optional(common::input::text(body, field, rule))
                    : common::input::optional_text(body, field, rule);
  };
  BackupConfigInput in;
  in.name = common::input::optional_text(body, "name", {.min = 1, .max = 128});
  in.endpoint = required("endpoint", {.min = 8, .max = 512});
  in.region = required("region", {.min = 1, .max = 64});
  in.bucket = required("bucket", {.min = 3, .max = 63});
  in.access_key_id = required("access_key_id", {.min = 1, .max = 256});
  in.secret_access_key = required("secret_access_key", {.min = 1, .max = 512});
  in.path_style = common::input::optional_boolean(body, "path_style");
  if (auto mb = common::input::optional_integer(body, "part_size_mb", 5, 512)) in.part_size_mb = static_cast<int>(*mb);
  return in;
}

std::string config_id(const common::Request& req) { return fields::uuid_param(req, "id", "backup configuration"); }

common::Response show_active_config(BackupConfigs& configs, common::Request& req) {
  return common::Response::json(config_json(configs.active(caller_of(req))));
}

common::Response create_config(BackupConfigs& configs, common::Request& req) {
  return common::Response::json(config_json(configs.create(caller_of(req), config_input(req, true))), 201);
}

common::Response list_configs(BackupConfigs& configs, common::Request& req) {
  json::array items;
  for (const auto& c : configs.list(caller_of(req))) items.push_back(config_json(c));
  return list_page(req, std::move(items));
}

common::Response show_config(BackupConfigs& configs, common::Request& req) {
  return common::Response::json(config_json(configs.get(caller_of(req), config_id(req))));
}

common::Response update_config(BackupConfigs& configs, common::Request& req) {
  auto id = config_id(req);
  return common::Response::json(config_json(configs.update(caller_of(req), id, config_input(req, false))));
}

common::Response delete_config(BackupConfigs& configs, common::Request& req) {
  configs.remove(caller_of(req), config_id(req));
  return common::Response::empty(204);
}

common::Response activate_config(BackupConfigs& configs, common::Request& req) {
  return common::Response::json(config_json(configs.activate(caller_of(req), config_id(req))));
}

common::Response list_s3_buckets(BackupConfigs& configs, common::Request& req) {
  // The configuration named by config_id, else the active one.
  auto target = configs.target(caller_of(req), common::input::query_text(req, "config_id", 64).value_or(""));
  json::array items;
  for (const auto& b : configs.list_buckets(target)) items.push_back({{"name", b.name}, {"created_at", b.created}});
  return common::Response::json({{"items", std::move(items)}, {"backup_config_id", target.config.id}});
}

common::Response create_s3_bucket(BackupConfigs& configs, common::Request& req) {
  auto body = req.json_object();
  auto name = common::input::text(body, "name", {.min = 3, .max = 63});
  auto target = configs.target(caller_of(req), common::input::optional_text(body, "config_id", {.max = 64}).value_or(""));
  configs.create_bucket(target, name);
  return common::Response::json({{"name", name}, {"backup_config_id", target.config.id}}, 201);
}

}  // namespace

Routes backup_config_routes(BackupConfigs& configs) {
  const Guard member{Auth::Member, OrgScope::Current};
  const RouteOptions s3_call{.query = {"config_id"}, .offload = true};
  return group("/v1/backup-config", member,
               {
                   get("", "backups.read", bind(configs, show_active_config)),
                   post("", "backups.manage", bind(configs, create_config), {.fields = kConfigFields}),
                   get("/list", "backups.read", bind(configs, list_configs), {.query = {"limit", "page", "per_page"}}),
                   get("/{id}", "backups.read", bind(configs, show_config)),
                   put("/{id}", "backups.manage", bind(configs, update_config), {.fields = kConfigFields}),
                   del("/{id}", "backups.manage", bind(configs, delete_config)),
                   post("/{id}/activate", "backups.manage", bind(configs, activate_config)),
                   get("/s3-buckets", "backups.read", bind(configs, list_s3_buckets), s3_call),
                   post("/s3-buckets", "backups.manage", bind(configs, create_s3_bucket),
                        {.fields = {"name", "config_id"}, .offload = true}),
               });
}

}  // namespace shardlyn
