// Organisations, members, invites, API tokens and user administration.
#include "orgs/platform.hpp"

#include "common/error.hpp"
#include "common/limiter.hpp"
#include "identity/sessions.hpp"
#include "security/password.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

audit::Actor actor(const Caller& c) { return {c.user_id, c.token_id, c.ip}; }

// What a member holds now (their role with overrides).
PermissionSet holdings(const Membership& m) { return shardlyn::member_permissions(m.role, m.overrides); }

// The member a change acts on, which the caller must cover (decision 0010): 404 when absent.
Membership covered_member(store::Connection& db, const Caller& caller, std::string_view user_id) {
  auto target = organizations::find_membership(db, caller.org_id, user_id);
  if (!target) throw common::ApiError::not_found("member not found");
  require_authority(*caller.permissions, holdings(*target), "change a member who holds more than you");
  return *target;
}

// Whether the caller may see and revoke a token: their own, or one whose creator they cover.
bool covers_token_creator(store::Connection& db, const Caller& caller, const ApiTokenRecord& token) {
  if (token.user_id == caller.user_id || !token.org_id) return true;
  auto creator = organizations::find_membership(db, *token.org_id, token.user_id);
  return !creator || covers(*caller.permissions, holdings(*creator));
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

// 429 when the organisation or the inviter has sent as many invites as `limit` allows within its period.
void Platform::check_invite_limits(store::Connection& db, const Caller& caller) const {
  auto check = [&](const common::LimitSpec& limit, std::string_view column, std::string_view value,
                   std::string_view who) {
    auto period = static_cast<std::int64_t>(limit.period.count());
    std::int64_t since = store::unix_now() - period;
    std::int64_t sent = db.query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'member.invited' AND " +
                                         std::string(column) + " = ? AND at > ?",
                                     value, since)
                            .value_or(0);
    if (sent >= static_cast<std::int64_t>(limit.quota))
      throw common::ApiError(429, std::string(who) + " sent as many invites as allowed (" + limit.to_string() +
                                      "); try again later")
          .with_header("Retry-After", std::to_string(std::max<std::int64_t>(1, period / 10)));
  };
  check(settings_.org_invite_limit, "org_id", caller.org_id, "this organization");
  check(settings_.user_invite_limit, "actor_id", caller.user_id, "you");
}

std::pair<Invite, std::string> Platform::invite(const Caller& caller, std::string_view email, std::string_view role) {
  require_authority(*caller.permissions, role_permissions(role), "invite as " + std::string(role));
  std::int64_t mail = 0;
  auto result = db_.write([&](store::Connection& db) {
    auto inviter = users::find(db, caller.user_id);
    if (!inviter || !inviter->email_verified)
      throw common::ApiError::forbidden(
          "verify your address before inviting anyone (the mailed link; POST /v1/auth/verify-email/resend sends "
          "another)");
    check_invite_limits(db, caller);
    auto created = organizations::invite(db, caller.org_id, email, role, caller.user_id, settings_.invite_ttl_s);
    audit::record(db, "member.invited", actor(caller), caller.org_id, {}, {{"email", email}, {"role", role}});
    auto org = organizations::find(db, caller.org_id);
    // What members wrote (organisation name) stays in the body, quoted, and out of the subject.
    std::string body = caller.email + " invited you to join the organization \"" + org->name +
                       "\" on Shardlyn as " + std::string(role) + ".\n\nTo accept, open\n\n  " + settings_.app_url +
                       "/invites/" + created.second + "\n\nor, signed in with this address, POST /v1/invites/" +
                       created.second + "/accept.\nThe invite is valid for " +
                       std::to_string(settings_.invite_ttl_s / 3600) + " hours.\n";
    mail = common::MailQueue::enqueue(db, {std::string(email), "You are invited to an organization on Shardlyn",
                                           body, "invite"});
    return created;
  });
  mail_.send_now({mail});
  return result;
}

void Platform::remove_member(const Caller& caller, std::string_view user_id) {
  db_.write([&](store::Connection& db) {
    covered_member(db, caller, user_id);
    organizations::remove_member(db, caller.org_id, user_id);
    audit::record(db, "member.removed", actor(caller), caller.org_id, user_id);
  });
}

void Platform::set_role(const Caller& caller, std::string_view user_id, std::string_view role) {
  db_.write([&](store::Connection& db) {
    auto target = covered_member(db, caller, user_id);
    require_authority(*caller.permissions, shardlyn::member_permissions(role, target.overrides),
                      "give the " + std::string(role) + " role");
    organizations::set_role(db, caller.org_id, user_id, role);
    audit::record(db, "member.role_changed", actor(caller), caller.org_id, user_id,
                  {{"from", target.role}, {"to", role}});
  });
}

MemberPermissions Platform::member_permissions(const Caller& caller, std::string_view user_id) {
  auto m = db_.read([&](store::Connection& db) { return organizations::find_membership(db, caller.org_id, user_id); });
  if (!m) throw common::ApiError::not_found("member not found");
  return {m->role, m->overrides, shardlyn::member_permissions(m->role, m->overrides)};
}

MemberPermissions Platform::set_override(const Caller& caller, std::string_view user_id, std::string_view key,
                                         bool granted) {
  require_authority(*caller.permissions, {std::string(key)}, (granted ? "grant " : "deny ") + std::string(key));
  db_.write([&](store::Connection& db) {
    auto target = covered_member(db, caller, user_id);
    if (target.role == "owner")
      throw common::ApiError::conflict("an owner holds every permission; nothing to override");
    organizations::set_override(db, caller.org_id, user_id, key, granted);
    audit::record(db, "member.permission_set", actor(caller), caller.org_id, user_id,
                  {{"permission", key}, {"granted", granted}});
  });
  return member_permissions(caller, user_id);
}

void Platform::remove_override(const Caller& caller, std::string_view user_id, std::string_view key) {
  // Lifting a denial hands the key back; dropping a grant takes it: either way the caller must hold it.
  require_authority(*caller.permissions, {std::string(key)}, "change the override of " + std::string(key));
  db_.write([&](store::Connection& db) {
    covered_member(db, caller, user_id);
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
    // The inviter must still hold what the invite hands out (they may have been demoted since).
    if (auto pending = organizations::pending_invite(db, token)) {
      auto inviter = organizations::find_membership(db, pending->org_id, pending->invited_by);
      if (!inviter || !covers(holdings(*inviter), role_permissions(pending->role)))
        throw common::ApiError::conflict("this invite lapsed: whoever sent it no longer holds the role it offers");
    }
    auto inv = organizations::accept(db, token, caller.user_id, caller.email);
    audit::record(db, "member.joined", actor(caller), inv.org_id, caller.user_id, {{"role", inv.role}});
    return inv;
  });
}

std::vector<ApiTokenRecord> Platform::api_tokens(const Caller& caller, bool root) {
  if (root && !caller.platform_admin) throw common::ApiError::forbidden("root tokens are for platform admins");
  std::optional<std::string> org;
  if (!root) org = caller.org_id;
  return db_.read([&](store::Connection& db) {
    auto all = api_tokens::list(db, org, caller.user_id);
    std::erase_if(all, [&](const ApiTokenRecord& t) { return !covers_token_creator(db, caller, t); });
    return all;
  });
}

std::pair<ApiTokenRecord, std::string> Platform::create_api_token(const Caller& caller, std::string_view name,
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
    audit::record(db, "api_token.created", actor(caller), org.value_or(""), {},
                  {{"token_id", created.first.id}, {"name", name}, {"root", root}});
    return created;
  });
}

Caller Platform::in_organization(const Caller& caller, std::string_view org_id) {
  auto m = db_.read([&](store::Connection& db) { return organizations::find_membership(db, org_id, caller.user_id); });
  if (!m) throw common::ApiError::not_found("organization not found");
  Caller c = caller;
  c.org_id = org_id;
  c.role = m->role;
  c.permissions = std::make_shared<const PermissionSet>(holdings(*m));
  if (!c.permissions->count("api_tokens.manage")) throw common::ApiError::forbidden("missing permission api_tokens.manage");
  return c;
}

void Platform::revoke_api_token(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    auto token = api_tokens::find(db, id);
    bool visible = token && (token->org_id ? *token->org_id == caller.org_id : caller.platform_admin) &&
                   covers_token_creator(db, caller, *token);
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
    users::mark_verified(db, user->id);  // an address set by a platform admin counts as verified
    user->email_verified = true;
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
