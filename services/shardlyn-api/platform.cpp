// Organisations, members, invites, API tokens and user administration.
#include "platform.hpp"

#include "common/error.hpp"
#include "identity/sessions.hpp"
#include "security/password.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

audit::Actor actor(const Caller& c) { return {c.user_id, c.token_id, c.ip}; }

void require_owner_for(const Caller& c, std::string_view what) {
  if (c.role != "owner") throw common::ApiError::forbidden("only an owner can " + std::string(what));
}

}  // namespace

Platform::Platform(store::Database& db, const Access& access, common::MailQueue& mail, PlatformSettings settings)
    : db_(db), access_(access), mail_(mail), settings_(std::move(settings)) {}

std::vector<std::pair<Organization, std::string>> Platform::organizations_of(const Caller& caller) {
  return db_.read([&](store::Connection& db) { return organizations::of_user(db, caller.user_id); });
}

std::pair<std::vector<std::pair<Organization, std::string>>, std::int64_t> Platform::organizations_of(
    const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::of_user(db, caller.user_id, page.limit, page.offset()),
                          organizations::count_of_user(db, caller.user_id));
  });
}

Organization Platform::create_organization(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    auto org = organizations::create(db, name, caller.user_id);
    audit::record(db, "organization.created", actor(caller), org.id, {}, {{"name", name}});
    return org;
  });
}

Organization Platform::organization(const Caller& caller) {
  auto org = db_.read([&](store::Connection& db) { return organizations::find(db, caller.org_id); });
  if (!org) throw common::ApiError::not_found("organization not found");
  return *org;
}

Organization Platform::rename_organization(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    organizations::rename(db, caller.org_id, name);
    audit::record(db, "organization.updated", actor(caller), caller.org_id, {}, {{"name", name}});
    return *organizations::find(db, caller.org_id);
  });
}

void Platform::delete_organization(const Caller& caller) {
  db_.write([&](store::Connection& db) {
    organizations::remove(db, caller.org_id);
    audit::record(db, "organization.deleted", actor(caller), caller.org_id);
  });
}

std::pair<std::vector<Member>, std::int64_t> Platform::members(const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::members(db, caller.org_id, page.limit, page.offset()),
                          organizations::count_members(db, caller.org_id));
  });
}

std::pair<Invite, std::string> Platform::invite(const Caller& caller, std::string_view email, std::string_view role) {
  std::int64_t mail = 0;
  auto result = db_.write([&](store::Connection& db) {
    auto created = organizations::invite(db, caller.org_id, email, role, caller.user_id, settings_.invite_ttl_s);
    audit::record(db, "member.invited", actor(caller), caller.org_id, {}, {{"email", email}, {"role", role}});
    auto org = organizations::find(db, caller.org_id);
    std::string body = caller.email + " invited you to join " + org->name + " on Shardlyn as " + std::string(role) +
                       ".\n\nTo accept, open\n\n  " + settings_.app_url + "/invites/" + created.second +
                       "\n\nor, signed in with this address, POST /v1/invites/" + created.second +
                       "/accept.\nThe invite is valid for " + std::to_string(settings_.invite_ttl_s / 3600) +
                       " hours.\n";
    mail = common::MailQueue::enqueue(
        db, {std::string(email), "Invitation to " + org->name + " on Shardlyn", body, "invite"});
    return created;
  });
  mail_.send_now({mail});
  return result;
}

void Platform::remove_member(const Caller& caller, std::string_view user_id) {
  db_.write([&](store::Connection& db) {
    auto target = organizations::find_membership(db, caller.org_id, user_id);
    if (!target) throw common::ApiError::not_found("member not found");
    if (target->role == "owner") require_owner_for(caller, "remove an owner");
    organizations::remove_member(db, caller.org_id, user_id);
    audit::record(db, "member.removed", actor(caller), caller.org_id, user_id);
  });
}

void Platform::set_role(const Caller& caller, std::string_view user_id, std::string_view role) {
  db_.write([&](store::Connection& db) {
    auto target = organizations::find_membership(db, caller.org_id, user_id);
    if (!target) throw common::ApiError::not_found("member not found");
    if (target->role == "owner" || role == "owner") require_owner_for(caller, "grant or take the owner role");
    organizations::set_role(db, caller.org_id, user_id, role);
    audit::record(db, "member.role_changed", actor(caller), caller.org_id, user_id,
                  {{"from", target->role}, {"to", role}});
  });
}

MemberPermissions Platform::member_permissions(const Caller& caller, std::string_view user_id) {
  auto m = db_.read([&](store::Connection& db) { return organizations::find_membership(db, caller.org_id, user_id); });
  if (!m) throw common::ApiError::not_found("member not found");
  return {m->role, m->overrides, shardlyn::member_permissions(m->role, m->overrides)};
}

MemberPermissions Platform::set_override(const Caller& caller, std::string_view user_id, std::string_view key,
                                         bool granted) {
  if (granted && !caller.permissions->count(key))
    throw common::ApiError::forbidden("you cannot grant " + std::string(key) + ": you do not hold it");
  db_.write([&](store::Connection& db) {
    auto target = organizations::find_membership(db, caller.org_id, user_id);
    if (!target) throw common::ApiError::not_found("member not found");
    if (target->role == "owner")
      throw common::ApiError::conflict("an owner holds every permission; nothing to override");
    organizations::set_override(db, caller.org_id, user_id, key, granted);
    audit::record(db, "member.permission_set", actor(caller), caller.org_id, user_id,
                  {{"permission", key}, {"granted", granted}});
  });
  return member_permissions(caller, user_id);
}

void Platform::remove_override(const Caller& caller, std::string_view user_id, std::string_view key) {
  db_.write([&](store::Connection& db) {
    if (!organizations::remove_override(db, caller.org_id, user_id, key))
      throw common::ApiError::not_found("no override of " + std::string(key) + " for this member");
    audit::record(db, "member.permission_removed", actor(caller), caller.org_id, user_id, {{"permission", key}});
  });
}

std::pair<std::vector<Invite>, std::int64_t> Platform::invites(const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::invites(db, caller.org_id, page.limit, page.offset()),
                          organizations::count_invites(db, caller.org_id));
  });
}

void Platform::delete_invite(const Caller& caller, std::string_view invite_id) {
  db_.write([&](store::Connection& db) {
    if (!organizations::delete_invite(db, caller.org_id, invite_id))
      throw common::ApiError::not_found("invite not found");
    audit::record(db, "member.invite_deleted", actor(caller), caller.org_id, {}, {{"invite_id", invite_id}});
  });
}

Invite Platform::accept_invite(const Caller& caller, std::string_view token) {
  return db_.write([&](store::Connection& db) {
    auto inv = organizations::accept(db, token, caller.user_id, caller.email);
    audit::record(db, "member.joined", actor(caller), inv.org_id, caller.user_id, {{"role", inv.role}});
    return inv;
  });
}

std::vector<ApiTokenRecord> Platform::api_tokens(const Caller& caller, bool root) {
  if (root && !caller.platform_admin) throw common::ApiError::forbidden("root tokens are for platform admins");
  std::optional<std::string> org;
  if (!root) org = caller.org_id;
  return db_.read([&](store::Connection& db) { return api_tokens::list(db, org, caller.user_id); });
}

std::pair<ApiTokenRecord, std::string> Platform::create_api_token(const Caller& caller, std::string_view name,
                                                                  std::optional<std::int64_t> expires_in,
                                                                  std::optional<PermissionSet> permissions, bool root) {
  if (root && !caller.platform_admin) throw common::ApiError::forbidden("root tokens are for platform admins");
  const PermissionSet holder = root ? all_permissions() : *caller.permissions;
  PermissionSet wanted = permissions.value_or(holder);
  if (!root)
    for (const auto& key : wanted)
      if (is_platform_permission(key))
        throw common::ApiError::validation("'permissions': " + key + " is for root tokens only");
  auto missing = missing_permissions(wanted, holder);
  if (!missing.empty())
    throw common::ApiError::forbidden("a token cannot hold permissions you lack: " + missing.front());
  std::optional<std::int64_t> expires_at;
  if (expires_in) expires_at = store::unix_now() + *expires_in;
  std::optional<std::string> org;
  if (!root) org = caller.org_id;
  return db_.write([&](store::Connection& db) {
    auto created = api_tokens::create(db, access_.token_key(), org, caller.user_id, name, wanted, expires_at);
    audit::record(db, "api_token.created", actor(caller), org.value_or(""), {},
                  {{"token_id", created.first.id}, {"name", name}, {"root", root}});
    return created;
  });
}

void Platform::revoke_api_token(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    auto token = api_tokens::find(db, id);
    bool visible = token && (token->org_id ? *token->org_id == caller.org_id : caller.platform_admin);
    if (!visible || !api_tokens::revoke(db, id, token->org_id))
      throw common::ApiError::not_found("API token not found");
    audit::record(db, "api_token.revoked", actor(caller), token->org_id.value_or(""), {}, {{"token_id", id}});
  });
}

std::pair<std::vector<User>, std::int64_t> Platform::users(const std::optional<std::string>& search, std::int64_t limit,
                                                           std::int64_t offset) {
  return db_.read([&](store::Connection& db) { return users::list(db, search, limit, offset); });
}

User Platform::create_user(const Caller& caller, std::string_view email, std::string_view password,
                           std::string_view name, bool platform_admin) {
  std::string hash = security::password_hash(password);
  return db_.write([&](store::Connection& db) {
    auto user = users::create(db, email, name, hash, platform_admin);
    if (!user) throw common::ApiError::conflict("an account with this email address already exists");
    organizations::create(db, std::string(name) + "'s organization", user->id);
    audit::record(db, "admin.user_created", actor(caller), {}, user->id, {{"platform_admin", platform_admin}});
    return *user;
  });
}

User Platform::user(std::string_view id) {
  auto user = db_.read([&](store::Connection& db) { return users::find(db, id); });
  if (!user) throw common::ApiError::not_found("user not found");
  return *user;
}

void Platform::delete_user(const Caller& caller, std::string_view id) {
  if (id == caller.user_id) throw common::ApiError::conflict("you cannot delete your own account here");
  db_.write([&](store::Connection& db) {
    // Organisations the user alone owns would be left without an owner: refuse.
    if (db.query_int("SELECT 1 FROM members m WHERE m.user_id = ?1 AND m.role = 'owner' AND "
                     "(SELECT COUNT(*) FROM members o WHERE o.org_id = m.org_id AND o.role = 'owner') = 1 AND "
                     "(SELECT COUNT(*) FROM members a WHERE a.org_id = m.org_id) > 1",
                     id))
      throw common::ApiError::conflict("the user is the only owner of an organization with other members");
    if (!users::find(db, id)) throw common::ApiError::not_found("user not found");
    // Organisations the user was alone in go with the account.
    db.execute(
        "DELETE FROM organizations WHERE id IN (SELECT org_id FROM members WHERE user_id = ?1) AND "
        "(SELECT COUNT(*) FROM members WHERE org_id = organizations.id) = 1",
        id);
    users::remove(db, id);
    audit::record(db, "admin.user_deleted", actor(caller), {}, id);
  });
}

User Platform::set_suspended(const Caller& caller, std::string_view id, bool suspended) {
  if (id == caller.user_id) throw common::ApiError::conflict("you cannot suspend your own account");
  return db_.write([&](store::Connection& db) {
    if (!users::set_suspended(db, id, suspended)) throw common::ApiError::not_found("user not found");
    if (suspended) identity::sessions::revoke_all(db, id, {}, "suspended");
    audit::record(db, suspended ? "admin.user_suspended" : "admin.user_unsuspended", actor(caller), {}, id);
    return *users::find(db, id);
  });
}

void Platform::record(const Caller& caller, std::string_view action, const boost::json::object& detail) {
  db_.write([&](store::Connection& db) { audit::record(db, action, actor(caller), caller.org_id, {}, detail); });
}

}  // namespace shardlyn
