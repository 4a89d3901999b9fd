#include "admin/users.hpp"

#include "common/error.hpp"
#include "identity/sessions.hpp"
#include "orgs/organizations.hpp"
#include "security/password.hpp"

namespace shardlyn {

std::pair<std::vector<User>, std::int64_t> Users::list(const std::optional<std::string>& search, std::int64_t limit,
                                                       std::int64_t offset) {
  return db_.read([&](store::Connection& db) { return users::list(db, search, limit, offset); });
}

User Users::create(const Caller& caller, std::string_view email, std::string_view password, std::string_view name,
                   bool platform_admin) {
  std::string hash = security::password_hash(password);
  return db_.write([&](store::Connection& db) {
    auto user = users::create(db, email, name, hash, platform_admin);
    if (!user) throw common::ApiError::conflict("an account with this email address already exists");
    users::mark_verified(db, user->id);  // an address set by a platform admin counts as verified
    user->email_verified = true;
    organizations::create(db, std::string(name) + "'s organization", user->id);
    audit::record(db, "admin.user_created", caller.actor(), {}, user->id, {{"platform_admin", platform_admin}});
    return *user;
  });
}

User Users::find(std::string_view id) {
  auto user = db_.read([&](store::Connection& db) { return users::find(db, id); });
  if (!user) throw common::ApiError::not_found("user not found");
  return *user;
}

void Users::remove(const Caller& caller, std::string_view id) {
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
    audit::record(db, "admin.user_deleted", caller.actor(), {}, id);
  });
}

User Users::set_suspended(const Caller& caller, std::string_view id, bool suspended) {
  if (id == caller.user_id) throw common::ApiError::conflict("you cannot suspend your own account");
  return db_.write([&](store::Connection& db) {
    if (!users::set_suspended(db, id, suspended)) throw common::ApiError::not_found("user not found");
    if (suspended) identity::sessions::revoke_all(db, id, {}, "suspended");
    audit::record(db, suspended ? "admin.user_suspended" : "admin.user_unsuspended", caller.actor(), {}, id);
    return *users::find(db, id);
  });
}

}  // namespace shardlyn
