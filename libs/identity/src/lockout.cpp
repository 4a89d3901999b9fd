#include "identity/lockout.hpp"

#include <algorithm>

namespace identity {

namespace {

constexpr std::string_view kFailures = "SELECT failed_logins FROM users WHERE id = ?";
constexpr std::string_view kSetFailures = "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?";
constexpr std::string_view kClear =
    "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ? AND (failed_logins != 0 OR locked_until != 0)";

}  // namespace

std::int64_t LockoutPolicy::lock_seconds(std::int64_t failures) const {
  if (failures < threshold) return 0;
  std::int64_t doublings = std::min<std::int64_t>(failures - threshold, 40);
  std::int64_t lock = base_s;
  for (std::int64_t i = 0; i < doublings && lock < max_s; ++i) lock *= 2;
  return std::min(lock, max_s);
}

namespace lockout {

std::int64_t record_failure(store::Connection& db, std::string_view user_id, std::int64_t now,
                            const LockoutPolicy& policy) {
  std::int64_t failures = db.query_int(kFailures, user_id).value_or(0) + 1;
  std::int64_t lock = policy.lock_seconds(failures);
  std::int64_t locked_until = lock > 0 ? now + lock : 0;
  db.execute(kSetFailures, failures, locked_until, user_id);
  return locked_until;
}

void clear(store::Connection& db, std::string_view user_id) { db.execute(kClear, user_id); }

}  // namespace lockout
}  // namespace identity
