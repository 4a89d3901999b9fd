#include "tokens/tokens.hpp"

#include "common/error.hpp"
#include "orgs/organizations.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

// Whether the caller may see and revoke a token: their own, or one whose creator they cover.
bool covers_token_creator(store::Connection& db, const Caller& caller, const ApiTokenRecord& token) {
  if (token.user_id == caller.user_id || !token.org_id) return true;
  auto creator = organizations::find_membership(db, *token.org_id, token.user_id);
  return !creator || covers(*caller.permissions, holdings(*creator));
}

}  // namespace

std::vector<ApiTokenRecord> ApiTokens::list(const Caller& caller, bool root) {
  if (root && !caller.platform_admin) throw common::ApiError::forbidden("root tokens are for platform admins");
  std::optional<std::string> org;
  if (!root) org = caller.org_id;
  access_.flush_uses();  // last uses answered before the listing show in it
  return db_.read([&](store::Connection& db) {
    auto all = api_tokens::list(db, org, caller.user_id);
    std::erase_if(all, [&](const ApiTokenRecord& t) { return !covers_token_creator(db, caller, t); });
    return all;
  });
}

std::pair<ApiTokenRecord, std::string> ApiTokens::create(const Caller& caller, std::string_view name,
                                                         std::optional<std::int64_t> expires_in,
                                                         std::optional<PermissionSet> permissions, bool root,
                                                         const std::optional<std::string>& organization_id) {
  if (root && !caller.platform_admin) throw common::ApiError::forbidden("root tokens are for platform admins");
  if (root && organization_id)
    throw common::ApiError::validation("'organization_id': root tokens belong to no organization");
  Caller in_org = caller;
  if (organization_id && *organization_id != caller.org_id) in_org = in_organization(caller, *organization_id);
  const PermissionSet holder = root ? all_permissions() : *in_org.permissions;
  PermissionSet wanted = permissions.value_or(holder);
  if (!root)
    for (const auto& key : wanted)
      if (is_platform_permission(key))
        throw common::ApiError::validation("'permissions': " + key + " is for root tokens only");
  require_authority(holder, wanted, "create a token holding these permissions");
  std::optional<std::int64_t> expires_at;
  if (expires_in) expires_at = store::unix_now() + *expires_in;
  std::optional<std::string> org;
  if (!root) org = in_org.org_id;
  return db_.write([&](store::Connection& db) {
    auto created = api_tokens::create(db, access_.token_key(), org, caller.user_id, name, wanted, expires_at);
    audit::record(db, "api_token.created", caller.actor(), org.value_or(""), {},
                  {{"token_id", created.first.id}, {"name", name}, {"root", root}});
    return created;
  });
}

Caller ApiTokens::in_organization(const Caller& caller, std::string_view org_id) {
  auto m = db_.read([&](store::Connection& db) { return organizations::find_membership(db, org_id, caller.user_id); });
  if (!m) throw common::ApiError::not_found("organization not found");
  Caller c = caller;
  c.org_id = org_id;
  c.role = m->role;
  c.permissions = std::make_shared<const PermissionSet>(holdings(*m));
  if (!c.permissions->count("api_tokens.manage"))
    throw common::ApiError::forbidden("missing permission api_tokens.manage");
  return c;
}

void ApiTokens::revoke(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    auto token = api_tokens::find(db, id);
    bool visible = token && (token->org_id ? *token->org_id == caller.org_id : caller.platform_admin) &&
                   covers_token_creator(db, caller, *token);
    if (!visible || !api_tokens::revoke(db, id, token->org_id))
      throw common::ApiError::not_found("API token not found");
    audit::record(db, "api_token.revoked", caller.actor(), token->org_id.value_or(""), {}, {{"token_id", id}});
  });
}

}  // namespace shardlyn
