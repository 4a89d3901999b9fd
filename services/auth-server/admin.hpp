#pragma once
// Administration use cases behind /api/admin: searching and changing accounts, all sessions,
// the audit trail and statistics. Failures are common::ApiError values.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit.hpp"
#include "billing.hpp"
#include "identity/sessions.hpp"
#include "store/database.hpp"
#include "tokens.hpp"
#include "totp.hpp"
#include "users.hpp"

namespace auth {

// Everything an admin sees about one account.
struct UserDetail {
  User user;
  std::vector<identity::Session> sessions;
  TotpStatus two_factor;
  std::vector<audit::Entry> recent_audit;   // newest first
  std::vector<Subscription> subscriptions;  // newest change first
};

// Changes an admin may make; absent ones stay.
struct UserChange {
  std::optional<std::string> role;
  std::optional<std::string> tier;
  std::optional<bool> suspended;
};

struct Stats {
  std::int64_t users = 0;
  std::int64_t suspended = 0;
  std::vector<std::pair<std::string, std::int64_t>> by_tier;  // every tier, in plan order
  std::vector<std::pair<std::string, std::int64_t>> by_role;
  std::vector<std::pair<std::string, std::int64_t>> signups_per_day;  // "YYYY-MM-DD", last 30 days, oldest first
  std::int64_t active_sessions = 0;
};

template <class T>
using Page = std::pair<std::vector<T>, std::int64_t>;  // items and total

class Administration {
 public:
  Administration(store::Database& db, const TwoFactor& two_factor);

  Page<User> users(const users::Search& filter, std::int64_t limit, std::int64_t offset);
  // 404 when there is no such account.
  UserDetail user(const std::string& id);
  // 404 unknown account; 409 for the admin's own account; 403 when the caller stopped being an
  // active administrator meanwhile (checked in the same transaction, so two admins demoting
  // each other at once leave one). Suspending ends every session.
  User update_user(const Principal& admin, const std::string& id, const UserChange& change,
                   const identity::Client& client);
  Page<identity::Session> sessions(const std::optional<std::string>& user_id, std::int64_t limit, std::int64_t offset);
  // 404 unless the session is live.
  void revoke_session(const Principal& admin, const std::string& id, const identity::Client& client);
  Page<audit::Entry> audit_entries(const audit::Filter& filter, std::int64_t limit, std::int64_t offset);
  Stats stats();

  // The first administrator (AUTH_BOOTSTRAP_ADMIN_*): while no administrator exists, creates
  // this account with a verified address; nothing once one exists. Throws common::ConfigError
  // when the address belongs to an existing account (promoting whoever registered it first
  // would hand it to them). Returns the id of the created account.
  std::optional<std::string> bootstrap_admin(const std::string& email, const std::string& name,
                                             const std::string& password);

 private:
  store::Database& db_;
  const TwoFactor& two_factor_;
};

}  // namespace auth
