#include "orgs/orgs.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "identity/users.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

// The member a change acts on, which the caller must cover (decision 0010): 404 when absent.
Membership covered_member(store::Connection& db, const Caller& caller, std::string_view user_id) {
  auto target = organizations::find_membership(db, caller.org_id, user_id);
  if (!target) throw common::ApiError::not_found("member not found");
  require_authority(*caller.permissions, holdings(*target), "change a member who holds more than you");
  return *target;
}

}  // namespace

std::vector<std::pair<Organization, std::string>> Organizations::of(const Caller& caller) {
  return db_.read([&](store::Connection& db) { return organizations::of_user(db, caller.user_id); });
}

std::pair<std::vector<std::pair<Organization, std::string>>, std::int64_t> Organizations::of(
    const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::of_user(db, caller.user_id, page.limit, page.offset()),
                          organizations::count_of_user(db, caller.user_id));
  });
}

Organization Organizations::create(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    auto org = organizations::create(db, name, caller.user_id);
    audit::record(db, "organization.created", caller.actor(), org.id, {}, {{"name", name}});
    return org;
  });
}

Organization Organizations::current(const Caller& caller) {
  auto org = db_.read([&](store::Connection& db) { return organizations::find(db, caller.org_id); });
  if (!org) throw common::ApiError::not_found("organization not found");
  return *org;
}

Organization Organizations::rename(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    organizations::rename(db, caller.org_id, name);
    audit::record(db, "organization.updated", caller.actor(), caller.org_id, {}, {{"name", name}});
    return *organizations::find(db, caller.org_id);
  });
}

void Organizations::remove(const Caller& caller) {
  db_.write([&](store::Connection& db) {
    organizations::remove(db, caller.org_id);
    audit::record(db, "organization.deleted", caller.actor(), caller.org_id);
  });
}

std::pair<std::vector<Member>, std::int64_t> Members::list(const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::members(db, caller.org_id, page.limit, page.offset()),
                          organizations::count_members(db, caller.org_id));
  });
}

// 429 when the organisation or the inviter has sent as many invites as `limit` allows within its period.
void Invites::check_limits(store::Connection& db, const Caller& caller) const {
  auto check = [&](const common::LimitSpec& limit, std::string_view column, std::string_view value,
                   std::string_view who) {
    auto period = static_cast<std::int64_t>(limit.period.count());
    std::int64_t since = store::unix_now() - period;
    std::int64_t sent = db.query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'member.invited' AND " +
                                         std::string(column) + " = ? AND at > ?",
                                     value, since)
                            .value_or(0);
    if (sent >= static_cast<std::int64_t>(limit.quota))
      throw common::ApiError(
          429, std::string(who) + " sent as many invites as allowed (" + limit.to_string() + "); try again later")
          .with_header("Retry-After", std::to_string(std::max<std::int64_t>(1, period / 10)));
  };
  check(settings_.org_limit, "org_id", caller.org_id, "this organization");
  check(settings_.user_limit, "actor_id", caller.user_id, "you");
}

std::pair<Invite, std::string> Invites::send(const Caller& caller, std::string_view email, std::string_view role) {
  require_authority(*caller.permissions, role_permissions(role), "invite as " + std::string(role));
  std::int64_t mail = 0;
  auto result = db_.write([&](store::Connection& db) {
    auto inviter = users::find(db, caller.user_id);
    if (!inviter || !inviter->email_verified)
      throw common::ApiError::forbidden(
          "verify your address before inviting anyone (the mailed link; POST /v1/auth/verify-email/resend sends "
          "another)");
    check_limits(db, caller);
    auto created = organizations::invite(db, caller.org_id, email, role, caller.user_id, settings_.ttl_s);
    audit::record(db, "member.invited", caller.actor(), caller.org_id, {}, {{"email", email}, {"role", role}});
    auto org = organizations::find(db, caller.org_id);
    // What members wrote (organisation name) stays in the body, quoted, and out of the subject.
    std::string body = caller.email + " invited you to join the organization \"" + org->name + "\" on Shardlyn as " +
                       std::string(role) + ".\n\nTo accept, open\n\n  " + settings_.app_url + "/invites/" +
                       created.second + "\n\nor, signed in with this address, POST /v1/invites/" + created.second +
                       "/accept.\nThe invite is valid for " + std::to_string(settings_.ttl_s / 3600) + " hours.\n";
    mail = common::MailQueue::enqueue(
        db, {std::string(email), "You are invited to an organization on Shardlyn", body, "invite"});
    return created;
  });
  mail_.send_now({mail});
  return result;
}

void Members::remove(const Caller& caller, std::string_view user_id) {
  db_.write([&](store::Connection& db) {
    covered_member(db, caller, user_id);
    organizations::remove_member(db, caller.org_id, user_id);
    audit::record(db, "member.removed", caller.actor(), caller.org_id, user_id);
  });
}

void Members::set_role(const Caller& caller, std::string_view user_id, std::string_view role) {
  db_.write([&](store::Connection& db) {
    auto target = covered_member(db, caller, user_id);
    require_authority(*caller.permissions, shardlyn::member_permissions(role, target.overrides),
                      "give the " + std::string(role) + " role");
    organizations::set_role(db, caller.org_id, user_id, role);
    audit::record(db, "member.role_changed", caller.actor(), caller.org_id, user_id,
                  {{"from", target.role}, {"to", role}});
  });
}

MemberPermissions Members::permissions(const Caller& caller, std::string_view user_id) {
  auto m = db_.read([&](store::Connection& db) { return organizations::find_membership(db, caller.org_id, user_id); });
  if (!m) throw common::ApiError::not_found("member not found");
  return {m->role, m->overrides, shardlyn::member_permissions(m->role, m->overrides)};
}

MemberPermissions Members::set_override(const Caller& caller, std::string_view user_id, std::string_view key,
                                        bool granted) {
  require_authority(*caller.permissions, {std::string(key)}, (granted ? "grant " : "deny ") + std::string(key));
  db_.write([&](store::Connection& db) {
    auto target = covered_member(db, caller, user_id);
    if (target.role == "owner")
      throw common::ApiError::conflict("an owner holds every permission; nothing to override");
    organizations::set_override(db, caller.org_id, user_id, key, granted);
    audit::record(db, "member.permission_set", caller.actor(), caller.org_id, user_id,
                  {{"permission", key}, {"granted", granted}});
  });
  return permissions(caller, user_id);
}

void Members::remove_override(const Caller& caller, std::string_view user_id, std::string_view key) {
  // Lifting a denial hands the key back; dropping a grant takes it: either way the caller must hold it.
  require_authority(*caller.permissions, {std::string(key)}, "change the override of " + std::string(key));
  db_.write([&](store::Connection& db) {
    covered_member(db, caller, user_id);
    if (!organizations::remove_override(db, caller.org_id, user_id, key))
      throw common::ApiError::not_found("no override of " + std::string(key) + " for this member");
    audit::record(db, "member.permission_removed", caller.actor(), caller.org_id, user_id, {{"permission", key}});
  });
}

std::pair<std::vector<Invite>, std::int64_t> Invites::list(const Caller& caller, const common::PageRequest& page) {
  return db_.read([&](store::Connection& db) {
    return std::make_pair(organizations::invites(db, caller.org_id, page.limit, page.offset()),
                          organizations::count_invites(db, caller.org_id));
  });
}

void Invites::remove(const Caller& caller, std::string_view invite_id) {
  db_.write([&](store::Connection& db) {
    if (!organizations::delete_invite(db, caller.org_id, invite_id))
      throw common::ApiError::not_found("invite not found");
    audit::record(db, "member.invite_deleted", caller.actor(), caller.org_id, {}, {{"invite_id", invite_id}});
  });
}

Invite Invites::accept(const Caller& caller, std::string_view token) {
  return db_.write([&](store::Connection& db) {
    // The inviter must still hold what the invite hands out (they may have been demoted since).
    if (auto pending = organizations::pending_invite(db, token)) {
      auto inviter = organizations::find_membership(db, pending->org_id, pending->invited_by);
      if (!inviter || !covers(holdings(*inviter), role_permissions(pending->role)))
        throw common::ApiError::conflict("this invite lapsed: whoever sent it no longer holds the role it offers");
    }
    auto inv = organizations::accept(db, token, caller.user_id, caller.email);
    audit::record(db, "member.joined", caller.actor(), inv.org_id, caller.user_id, {{"role", inv.role}});
    return inv;
  });
}

}  // namespace shardlyn
