// Organization Endpoints (organisations, members, invites) and the Permissions Endpoint.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "orgs/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object org_json(const Organization& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"created_by", o.created_by},
          {"member_count", o.member_count},
          {"created_at", common::rfc3339_from_unix(o.created_at)},
          {"updated_at", common::rfc3339_from_unix(o.updated_at)}};
}

json::object invite_json(const Invite& i) {
  return {{"id", i.id},
          {"organization_id", i.org_id},
          {"email", i.email},
          {"role", i.role},
          {"invited_by", i.invited_by},
          {"created_at", common::rfc3339_from_unix(i.created_at)},
          {"expires_at", common::rfc3339_from_unix(i.expires_at)}};
}

json::array keys_json(const PermissionSet& set) {
  json::array out;
  for (const auto& k : set) out.emplace_back(k);
  return out;
}

json::object member_permissions_json(std::string_view user_id, const MemberPermissions& m) {
  json::array overrides;
  for (const auto& o : m.overrides) overrides.push_back({{"permission", o.permission}, {"granted", o.granted}});
  return {{"user_id", user_id},
          {"role", m.role},
          {"overrides", std::move(overrides)},
          {"permissions", keys_json(m.effective)}};
}

std::string org_name(const json::object& body) { return common::input::text(body, "name", {.min = 1, .max = 100}); }

std::string role_field(const json::object& body, std::initializer_list<std::string_view> allowed) {
  return common::input::one_of(body, "role", allowed);
}

// A catalogue key that members may hold (platform keys are for root tokens).
std::string member_key(std::string_view key, std::string_view what) {
  if (!is_permission(key) || is_platform_permission(key))
    throw common::ApiError::validation(std::string(what) + " must be a permission key of GET /v1/permissions");
  return std::string(key);
}

}  // namespace

std::vector<common::Route> organization_routes(Platform& platform) {
  Platform* p = &platform;
  auto user_id = [](const common::Request& req) { return fields::uuid_param(req, "userId", "member"); };
  return {
      {.method = "GET",
       .path = "/v1/organizations",
       .auth = "jwt",
       .query = {"limit", "page", "per_page"},
       .handler =
           [p](common::Request& req) {
             auto page = fields::page(req);
             auto [orgs, total] = p->organizations_of(caller_of(req), page);
             json::array items;
             for (const auto& [org, role] : orgs) {
               auto o = org_json(org);
               o["role"] = role;
               items.push_back(std::move(o));
             }
             return common::bare_page(std::move(items), total, page);
           }},
      {.method = "POST",
       .path = "/v1/organizations",
       .auth = "jwt",
       .fields = {"name"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto o = org_json(p->create_organization(caller_of(req), org_name(body)));
             o["role"] = "owner";
             return common::Response::json(o, 201);
           }},
      {.method = "GET",
       .path = "/v1/organizations/{orgId}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "organization.read",
       .handler =
           [p](common::Request& req) {
             auto o = org_json(p->organization(caller_of(req)));
             o["role"] = caller_of(req).role;
             return common::Response::json(o);
           }},
      {.method = "PUT",
       .path = "/v1/organizations/{orgId}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "organization.update",
       .fields = {"name"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             return common::Response::json(org_json(p->rename_organization(caller_of(req), org_name(body))));
           }},
      {.method = "DELETE",
       .path = "/v1/organizations/{orgId}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "organization.delete",
       .handler =
           [p](common::Request& req) {
             p->delete_organization(caller_of(req));
             return common::Response::empty(204);
           }},
      {.method = "GET",
       .path = "/v1/organizations/{orgId}/members",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.read",
       .query = {"limit", "page", "per_page"},
       .handler =
           [p](common::Request& req) {
             auto page = fields::page(req);
             auto [members, total] = p->members(caller_of(req), page);
             json::array items;
             for (const auto& m : members)
               items.push_back({{"user_id", m.user_id},
                                {"email", m.email},
                                {"name", m.name},
                                {"role", m.role},
                                {"joined_at", common::rfc3339_from_unix(m.joined_at)}});
             return common::bare_page(std::move(items), total, page);
           }},
      {.method = "POST",
       .path = "/v1/organizations/{orgId}/members/invite",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.invite",
       .fields = {"email", "role"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto email = fields::email(body, "email");
             std::string role = body.contains("role") ? role_field(body, {"admin", "user"}) : "user";
             auto [invite, token] = p->invite(caller_of(req), email, role);
             auto out = invite_json(invite);
             out["token"] = token;
             return common::Response::json(out, 201);
           }},
      {.method = "DELETE",
       .path = "/v1/organizations/{orgId}/members/{userId}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.manage",
       .handler =
           [p, user_id](common::Request& req) {
             p->remove_member(caller_of(req), user_id(req));
             return common::Response::empty(204);
           }},
      {.method = "PUT",
       .path = "/v1/organizations/{orgId}/members/{userId}/role",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.manage",
       .fields = {"role"},
       .handler =
           [p, user_id](common::Request& req) {
             auto body = req.json_object();
             auto role = role_field(body, {"owner", "admin", "user"});
             auto id = user_id(req);
             p->set_role(caller_of(req), id, role);
             return common::Response::json(member_permissions_json(id, p->member_permissions(caller_of(req), id)));
           }},
      {.method = "GET",
       .path = "/v1/organizations/{orgId}/members/{userId}/permissions",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.read",
       .handler =
           [p, user_id](common::Request& req) {
             auto id = user_id(req);
             return common::Response::json(member_permissions_json(id, p->member_permissions(caller_of(req), id)));
           }},
      {.method = "POST",
       .path = "/v1/organizations/{orgId}/members/{userId}/permissions",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.manage",
       .fields = {"granted", "permission"},
       .handler =
           [p, user_id](common::Request& req) {
             auto body = req.json_object();
             auto key = member_key(common::input::text(body, "permission", {.min = 1, .max = 64}), "'permission'");
             bool granted = common::input::boolean(body, "granted");  // required: it decides grant or deny
             auto id = user_id(req);
             return common::Response::json(
                 member_permissions_json(id, p->set_override(caller_of(req), id, key, granted)));
           }},
      {.method = "DELETE",
       .path = "/v1/organizations/{orgId}/members/{userId}/permissions/{key}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.manage",
       .handler =
           [p, user_id](common::Request& req) {
             auto key = member_key(req.param("key"), "path parameter 'key'");
             p->remove_override(caller_of(req), user_id(req), key);
             return common::Response::empty(204);
           }},
      {.method = "GET",
       .path = "/v1/organizations/{orgId}/invites",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.read",
       .query = {"limit", "page", "per_page"},
       .handler =
           [p](common::Request& req) {
             auto page = fields::page(req);
             auto [invites, total] = p->invites(caller_of(req), page);
             json::array items;
             for (const auto& i : invites) items.push_back(invite_json(i));
             return common::bare_page(std::move(items), total, page);
           }},
      {.method = "DELETE",
       .path = "/v1/organizations/{orgId}/invites/{inviteId}",
       .auth = "jwt_or_api_token",
       .scope = "path",
       .permission = "members.invite",
       .handler =
           [p](common::Request& req) {
             p->delete_invite(caller_of(req), fields::uuid_param(req, "inviteId", "invite"));
             return common::Response::empty(204);
           }},
      {.method = "POST",
       .path = "/v1/invites/{token}/accept",
       .auth = "jwt",
       .handler =
           [p](common::Request& req) {
             std::string token(req.param("token"));
             if (token.empty() || token.size() > 128) throw common::ApiError::not_found("invite not found or expired");
             auto inv = p->accept_invite(caller_of(req), token);
             return common::Response::json(json::object{{"organization_id", inv.org_id}, {"role", inv.role}});
           }},
      {.method = "GET",
       .path = "/v1/permissions",
       .auth = "jwt",
       .handler =
           [](common::Request&) {
             json::array permissions, groups;
             json::object by_group;
             for (const auto& info : permission_catalogue()) {
               permissions.push_back({{"key", info.key},
                                      {"group", info.group},
                                      {"description", info.description},
                                      {"scope", info.platform ? "platform" : "organization"}});
               auto& g = by_group[info.group];
               if (g.is_null()) {
                 g = json::array();
                 groups.emplace_back(info.group);
               }
               g.as_array().emplace_back(info.key);
             }
             json::array grouped;
             for (const auto& name : groups)
               grouped.push_back({{"name", name}, {"permissions", by_group[name.as_string()]}});
             json::object roles;
             for (auto role : kRoles) roles[role] = keys_json(role_permissions(role));
             return common::Response::json(json::object{
                 {"permissions", std::move(permissions)}, {"groups", std::move(grouped)}, {"roles", std::move(roles)}});
           }},
  };
}

}  // namespace shardlyn
