#include "admin.hpp"

#include "common/config.hpp"
#include "common/error.hpp"
#include "security/password.hpp"
#include "store/time.hpp"

namespace auth {

namespace {

constexpr std::string_view kRecentAudit =
    "SELECT id, at, action, user_id, actor_id, ip, detail FROM audit_log WHERE user_id = ? ORDER BY seq DESC LIMIT 20";
constexpr std::string_view kCountUsers = "SELECT COUNT(*), COALESCE(SUM(suspended), 0) FROM users";
constexpr std::string_view kCountByTier = "SELECT COUNT(*) FROM users WHERE tier = ?";
constexpr std::string_view kCountByRole = "SELECT COUNT(*) FROM users WHERE role = ?";
constexpr std::string_view kAdmins = "SELECT COUNT(*) FROM users WHERE role = 'admin'";
constexpr std::string_view kSignups =
    "SELECT strftime('%Y-%m-%d', created_at, 'unixepoch') AS day, COUNT(*) FROM users WHERE created_at >= ? "
    "GROUP BY day ORDER BY day";

constexpr const char* kTiers[] = {"community", "solo", "pro", "business", "enterprise"};
constexpr const char* kRoles[] = {"user", "admin"};

}  // namespace

Administration::Administration(store::Database& db, const TwoFactor& two_factor) : db_(db), two_factor_(two_factor) {}

Page<User> Administration::users(const users::Search& filter, std::int64_t limit, std::int64_t offset) {
  return db_.read([&](store::Connection& c) { return users::search(c, filter, limit, offset); });
}

UserDetail Administration::user(const std::string& id) {
  auto detail = db_.read([&](store::Connection& c) -> std::optional<UserDetail> {
    auto user = users::by_id(c, id);
    if (!user) return std::nullopt;
    UserDetail d{
        *user, identity::sessions::live_for_user(c, id), two_factor_.status_of(c, id), {}, billing::of_user(c, id)};
    auto q = c.prepare(kRecentAudit);
    q->bind_all(id);
    while (q->step())
      d.recent_audit.push_back(
          {q->text(0), q->int64(1), q->text(2), q->text_or_null(3), q->text_or_null(4), q->text(5), q->text(6)});
    return d;
  });
  if (!detail) throw common::ApiError::not_found("no such user");
  return std::move(*detail);
}

User Administration::update_user(const Principal& admin, const std::string& id, const UserChange& change,
                                 const identity::Client& client) {
  return db_.write([&](store::Connection& c) {
    auto before = users::by_id(c, id);
    if (!before) throw common::ApiError::not_found("no such user");
    if (id == admin.user_id)
      throw common::ApiError::conflict("administrators cannot change their own role, tier or suspension");
    // The caller's role as of this transaction, not as of its request's authentication: writes
    // are serialised, so of two admins demoting each other at once the second finds itself
    // demoted and one admin remains (the caller, never the target, so some admin always does).
    auto actor = users::by_id(c, admin.user_id);
    if (!actor || actor->role != "admin" || actor->suspended)
      throw common::ApiError::forbidden("you are no longer an active administrator");
    users::set_admin_fields(c, id, change.role, change.tier, change.suspended);
    if (change.role && *change.role != before->role)
      audit::record(c, audit::kRoleChanged, id, client.ip, {{"from", before->role}, {"to", *change.role}},
                    admin.user_id);
    if (change.tier && *change.tier != before->tier)
      audit::record(c, audit::kTierChanged, id, client.ip, {{"from", before->tier}, {"to", *change.tier}},
                    admin.user_id);
    if (change.suspended && *change.suspended != before->suspended) {
      int ended = *change.suspended ? identity::sessions::revoke_all(c, id, "", "account suspended") : 0;
      audit::record(c, *change.suspended ? audit::kSuspended : audit::kUnsuspended, id, client.ip,
                    {{"sessionsEnded", ended}}, admin.user_id);
    }
    return *users::by_id(c, id);
  });
}

Page<identity::Session> Administration::sessions(const std::optional<std::string>& user_id, std::int64_t limit,
                                                 std::int64_t offset) {
  return db_.read([&](store::Connection& c) { return identity::sessions::all_live(c, user_id, limit, offset); });
}

void Administration::revoke_session(const Principal& admin, const std::string& id, const identity::Client& client) {
  bool revoked = db_.write([&](store::Connection& c) {
    auto session = identity::sessions::live_by_id(c, id);
    if (!session) return false;
    identity::sessions::revoke(c, id, "revoked by administrator");
    audit::record(c, audit::kSessionRevoked, session->user_id, client.ip, {{"sessionId", id}}, admin.user_id);
    return true;
  });
  if (!revoked) throw common::ApiError::not_found("no such session");
}

Page<audit::Entry> Administration::audit_entries(const audit::Filter& filter, std::int64_t limit, std::int64_t offset) {
  return db_.read([&](store::Connection& c) { return audit::list(c, filter, limit, offset); });
}

std::optional<std::string> Administration::bootstrap_admin(const std::string& email, const std::string& name,
                                                          const std::string& password) {
  if (db_.read([](store::Connection& c) { return c.query_int(kAdmins).value_or(0); }) > 0) return std::nullopt;
  User user;
  user.id = users::new_id();
  user.email = email;
  user.name = name;
  user.password_hash = security::password_hash(password);
  user.role = "admin";
  user.email_verified = true;  // the operator configured it
  user.created_at = user.updated_at = store::unix_now();
  return db_.write([&](store::Connection& c) -> std::optional<std::string> {
    if (c.query_int(kAdmins).value_or(0) > 0) return std::nullopt;
    if (!users::insert(c, user))
      throw common::ConfigError("AUTH_BOOTSTRAP_ADMIN_EMAIL belongs to an existing account; choose an address "
                                "without one (an existing account is never promoted by configuration)");
    audit::record(c, audit::kRegistered, user.id, "", {{"bootstrap", true}});
    audit::record(c, audit::kRoleChanged, user.id, "", {{"from", "user"}, {"to", "admin"}, {"by", "bootstrap"}});
    return user.id;
  });
}

Stats Administration::stats() {
  return db_.read([&](store::Connection& c) {
    Stats s;
    {
      auto q = c.prepare(kCountUsers);
      q->step();
      s.users = q->int64(0);
      s.suspended = q->int64(1);
    }
    for (const char* tier : kTiers) s.by_tier.emplace_back(tier, c.query_int(kCountByTier, tier).value_or(0));
    for (const char* role : kRoles) s.by_role.emplace_back(role, c.query_int(kCountByRole, role).value_or(0));
    auto q = c.prepare(kSignups);
    q->bind_all(store::unix_now() - 30 * 86400);
    while (q->step()) s.signups_per_day.emplace_back(q->text(0), q->int64(1));
    s.active_sessions = identity::sessions::count_live(c);
    return s;
  });
}

}  // namespace auth
