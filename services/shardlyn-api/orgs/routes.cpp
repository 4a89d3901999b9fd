// Organization Endpoints (organisations, members, invites) and the Permissions Endpoint.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"
#include "orgs/orgs.hpp"
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

json::object member_permissions_json(std::string_view user_id, const MemberPermissions& m) {
  json::array overrides;
  for (const auto& o : m.overrides) overrides.push_back({{"permission", o.permission}, {"granted", o.granted}});
  return {{"user_id", user_id},
          {"role", m.role},
          {"overrides", std::move(overrides)},
          {"permissions", json::value_from(m.effective)}};
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

std::string member_id(const common::Request& req) { return fields::uuid_param(req, "userId", "member"); }

common::Response member_permissions_of(OrgArea& a, const common::Request& req, const std::string& id) {
  return common::Response::json(member_permissions_json(id, a.members.permissions(caller_of(req), id)));
}

common::Response list_organizations(OrgArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [orgs, total] = a.organizations.of(caller_of(req), page);
  json::array items;
  for (const auto& [org, role] : orgs) {
    auto o = org_json(org);
    o["role"] = role;
    items.push_back(std::move(o));
  }
  return common::bare_page(std::move(items), total, page);
}

common::Response create_organization(OrgArea& a, common::Request& req) {
  auto body = req.json_object();
  auto o = org_json(a.organizations.create(caller_of(req), org_name(body)));
  o["role"] = "owner";
  return common::Response::json(o, 201);
}

common::Response show_organization(OrgArea& a, common::Request& req) {
  auto o = org_json(a.organizations.current(caller_of(req)));
  o["role"] = caller_of(req).role;
  return common::Response::json(o);
}

common::Response rename_organization(OrgArea& a, common::Request& req) {
  auto body = req.json_object();
  return common::Response::json(org_json(a.organizations.rename(caller_of(req), org_name(body))));
}

common::Response delete_organization(OrgArea& a, common::Request& req) {
  a.organizations.remove(caller_of(req));
  return common::Response::empty(204);
}

common::Response list_members(OrgArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [members, total] = a.members.list(caller_of(req), page);
  json::array items;
  for (const auto& m : members)
    items.push_back({{"user_id", m.user_id},
                     {"email", m.email},
                     {"name", m.name},
                     {"role", m.role},
                     {"joined_at", common::rfc3339_from_unix(m.joined_at)}});
  return common::bare_page(std::move(items), total, page);
}

common::Response invite_member(OrgArea& a, common::Request& req) {
  auto body = req.json_object();
  auto email = fields::email(body, "email");
  std::string role = body.contains("role") ? role_field(body, {"admin", "user"}) : "user";
  auto [invite, token] = a.invites.send(caller_of(req), email, role);
  auto out = invite_json(invite);
  out["token"] = token;
  return common::Response::json(out, 201);
}

common::Response remove_member(OrgArea& a, common::Request& req) {
  a.members.remove(caller_of(req), member_id(req));
  return common::Response::empty(204);
}

common::Response set_member_role(OrgArea& a, common::Request& req) {
  auto body = req.json_object();
  auto role = role_field(body, {"owner", "admin", "user"});
  auto id = member_id(req);
  a.members.set_role(caller_of(req), id, role);
  return member_permissions_of(a, req, id);
}

common::Response show_member_permissions(OrgArea& a, common::Request& req) {
  return member_permissions_of(a, req, member_id(req));
}

common::Response set_member_permission(OrgArea& a, common::Request& req) {
  auto body = req.json_object();
  auto key = member_key(common::input::text(body, "permission", {.min = 1, .max = 64}), "'permission'");
  bool granted = common::input::boolean(body, "granted");  // required: it decides grant or deny
  auto id = member_id(req);
  return common::Response::json(member_permissions_json(id, a.members.set_override(caller_of(req), id, key, granted)));
}

common::Response remove_member_permission(OrgArea& a, common::Request& req) {
  auto key = member_key(req.param("key"), "path parameter 'key'");
  a.members.remove_override(caller_of(req), member_id(req), key);
  return common::Response::empty(204);
}

common::Response list_invites(OrgArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [invites, total] = a.invites.list(caller_of(req), page);
  json::array items;
  for (const auto& i : invites) items.push_back(invite_json(i));
  return common::bare_page(std::move(items), total, page);
}

common::Response delete_invite(OrgArea& a, common::Request& req) {
  a.invites.remove(caller_of(req), fields::uuid_param(req, "inviteId", "invite"));
  return common::Response::empty(204);
}

common::Response accept_invite(OrgArea& a, common::Request& req) {
  std::string token(req.param("token"));
  if (token.empty() || token.size() > 128) throw common::ApiError::not_found("invite not found or expired");
  auto inv = a.invites.accept(caller_of(req), token);
  return common::Response::json(json::object{{"organization_id", inv.org_id}, {"role", inv.role}});
}

common::Response list_permissions(OrgArea&, common::Request&) {
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
  for (const auto& name : groups) grouped.push_back({{"name", name}, {"permissions", by_group[name.as_string()]}});
  json::object roles;
  for (auto role : kRoles) roles[role] = json::value_from(role_permissions(role));
  return common::Response::json(json::object{
      {"permissions", std::move(permissions)}, {"groups", std::move(grouped)}, {"roles", std::move(roles)}});
}

}  // namespace

Routes organization_routes(OrgArea& area) {
  const Guard user{Auth::User, OrgScope::None};
  const Guard member{Auth::Member, OrgScope::Path};
  const std::vector<std::string> page = {"limit", "page", "per_page"};
  auto on = [&area](common::Response (*handler)(OrgArea&, common::Request&)) { return bind(area, handler); };
  return join({
      group("/v1/organizations", user,
            {
                get("", "", on(list_organizations), {.query = page}),
                post("", "", on(create_organization), {.fields = {"name"}}),
            }),
      group("/v1/organizations/{orgId}", member,
            {
                get("", "organization.read", on(show_organization)),
                put("", "organization.update", on(rename_organization), {.fields = {"name"}}),
                del("", "organization.delete", on(delete_organization)),
                get("/members", "members.read", on(list_members), {.query = page}),
                post("/members/invite", "members.invite", on(invite_member), {.fields = {"email", "role"}}),
                del("/members/{userId}", "members.manage", on(remove_member)),
                put("/members/{userId}/role", "members.manage", on(set_member_role), {.fields = {"role"}}),
                get("/members/{userId}/permissions", "members.read", on(show_member_permissions)),
                post("/members/{userId}/permissions", "members.manage", on(set_member_permission),
                     {.fields = {"granted", "permission"}}),
                del("/members/{userId}/permissions/{key}", "members.manage", on(remove_member_permission)),
                get("/invites", "members.read", on(list_invites), {.query = page}),
                del("/invites/{inviteId}", "members.invite", on(delete_invite)),
            }),
      group("/v1", user,
            {
                post("/invites/{token}/accept", "", on(accept_invite)),
                get("/permissions", "", on(list_permissions)),
            }),
  });
}

}  // namespace shardlyn
