// API Token Endpoints.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"
#include "tokens/api_tokens.hpp"
#include "tokens/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object token_json(const ApiTokenRecord& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"organization_id", json::value_from(t.org_id)},
          {"root", !t.org_id.has_value()},
          {"last_four", t.last_four},
          {"permissions", json::value_from(t.permissions)},
          {"created_at", common::rfc3339_from_unix(t.created_at)},
          {"expires_at", common::rfc3339_or_null(t.expires_at)},
          {"last_used_at", common::rfc3339_or_null(t.last_used_at)},
          {"last_used_ip", json::value_from(t.last_used_ip)},
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
    throw common::ApiError::validation(
        "'organization_id' and the X-Organization-Id header name different organizations");
  return org;
}

common::Response list_tokens(ApiTokens& tokens, common::Request& req) {
  bool root = req.query_param("root").value_or("false") == "true";
  json::array items;
  for (const auto& t : tokens.list(caller_of(req), root)) items.push_back(token_json(t));
  return list_page(req, std::move(items));
}

common::Response create_token(ApiTokens& tokens, common::Request& req) {
  auto body = req.json_object();
  auto name = common::input::text(body, "name", {.min = 1, .max = 100});
  auto expires_in = common::input::optional_integer(body, "expires_in", 1, ApiTokens::kMaxTtl);
  bool root = common::input::optional_boolean(body, "root").value_or(false);
  auto org = requested_organization(req, body);
  auto [record, token] = tokens.create(caller_of(req), name, expires_in, requested_permissions(body), root, org);
  auto out = token_json(record);
  out["token"] = token;
  return common::Response::json(out, 201);
}

common::Response revoke_token(ApiTokens& tokens, common::Request& req) {
  std::string id(req.param("id"));
  if (!api_tokens::is_id(id)) throw common::ApiError::not_found("API token not found");
  tokens.revoke(caller_of(req), id);
  return common::Response::empty(204);
}

}  // namespace

Routes api_token_routes(ApiTokens& tokens) {
  const Guard user{Auth::User, OrgScope::Current};
  return group(
      "/v1/api-tokens", user,
      {
          get("", "api_tokens.manage", bind(tokens, list_tokens), {.query = {"limit", "page", "per_page", "root"}}),
          post("", "api_tokens.manage", bind(tokens, create_token),
               {.fields = {"expires_in", "name", "organization_id", "permissions", "root"}}),
          del("/{id}", "api_tokens.manage", bind(tokens, revoke_token)),
      });
}

}  // namespace shardlyn
