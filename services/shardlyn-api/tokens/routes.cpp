// API Token Endpoints.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/shapes.hpp"
#include "tokens/api_tokens.hpp"
#include "tokens/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {


json::object token_json(const ApiTokenRecord& t) {
  json::array permissions;
  for (const auto& p : t.permissions) permissions.emplace_back(p);
  return {{"id", t.id},
          {"name", t.name},
          {"organization_id", t.org_id ? json::value(*t.org_id) : json::value(nullptr)},
          {"root", !t.org_id.has_value()},
          {"last_four", t.last_four},
          {"permissions", std::move(permissions)},
          {"created_at", common::rfc3339_from_unix(t.created_at)},
          {"expires_at", common::rfc3339_or_null(t.expires_at)},
          {"last_used_at", common::rfc3339_or_null(t.last_used_at)},
          {"last_used_ip", t.last_used_ip ? json::value(*t.last_used_ip) : json::value(nullptr)},
          {"revoked", t.revoked_at.has_value()}};
}

std::optional<PermissionSet> requested_permissions(const json::object& body) {
  if (!body.contains("permissions")) return std::nullopt;
  PermissionSet out;
  for (const auto& key : common::input::text_list(body, "permissions", 200, {.min = 1, .max = 64})) {
    if (!is_permission(key)) throw common::ApiError::validation("'permissions': unknown permission " + key);
    out.insert(key);
  }
  return out;
}

// The organisation a new token belongs to when the body names one (organization_id); it must
// agree with X-Organization-Id when both are sent.
std::optional<std::string> requested_organization(const common::Request& req, const json::object& body) {
  auto org = common::input::optional_text(body, "organization_id", {.min = 36, .max = 36});
  if (!org) return std::nullopt;
  if (auto header = req.headers.get("X-Organization-Id"); header && *header != *org)
    throw common::ApiError::validation("'organization_id' and the X-Organization-Id header name different organizations");
  return org;
}

}  // namespace

std::vector<common::Route> api_token_routes(Platform& platform) {
  Platform* p = &platform;
  return {
      {.method = "GET",
       .path = "/v1/api-tokens",
       .auth = "jwt",
       .scope = "current",
       .permission = "api_tokens.manage",
       .query = {"limit", "page", "per_page", "root"},
       .handler =
           [p](common::Request& req) {
             bool root = req.query_param("root").value_or("false") == "true";
             json::array items;
             for (const auto& t : p->api_tokens(caller_of(req), root)) items.push_back(token_json(t));
             return list_page(req, std::move(items));
           }},
      {.method = "POST",
       .path = "/v1/api-tokens",
       .auth = "jwt",
       .scope = "current",
       .permission = "api_tokens.manage",
       .fields = {"expires_in", "name", "organization_id", "permissions", "root"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto name = common::input::text(body, "name", {.min = 1, .max = 100});
             auto expires_in = common::input::optional_integer(body, "expires_in", 1, p->settings().max_token_ttl_s);
             bool root = common::input::optional_boolean(body, "root").value_or(false);
             auto org = requested_organization(req, body);
             auto [record, token] =
                 p->create_api_token(caller_of(req), name, expires_in, requested_permissions(body), root, org);
             auto out = token_json(record);
             out["token"] = token;
             return common::Response::json(out, 201);
           }},
      {.method = "DELETE",
       .path = "/v1/api-tokens/{id}",
       .auth = "jwt",
       .scope = "current",
       .permission = "api_tokens.manage",
       .handler =
           [p](common::Request& req) {
             std::string id(req.param("id"));
             if (!api_tokens::is_id(id)) throw common::ApiError::not_found("API token not found");
             p->revoke_api_token(caller_of(req), id);
             return common::Response::empty(204);
           }},
  };
}

}  // namespace shardlyn
