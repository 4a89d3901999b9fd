#pragma once
// Per-account lockout after repeated failed sign-ins, on top of the per-IP rate limits.
// Works on the service's `users` table, which needs the columns
//   id TEXT PRIMARY KEY, failed_logins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0
// Functions run on a connection inside the caller's transaction.
#include <cstdint>
#include <string_view>

#include "store/connection.hpp"

namespace identity {

struct LockoutPolicy {
  int threshold = 5;          // failures before the first lock
  std::int64_t base_s = 60;   // first lock; doubles with every further failure
  std::int64_t max_s = 3600;  // longest lock

  // How long an account with `failures` consecutive failures stays locked (0 = not locked).
  std::int64_t lock_seconds(std::int64_t failures) const;
};

namespace lockout {

// Counts a failed sign-in; returns the end of the lock it causes (0 = none).
std::int64_t record_failure(store::Connection& db, std::string_view user_id, std::int64_t now,
                            const LockoutPolicy& policy);
// A successful sign-in (or a password reset) clears the counter and any lock.
void clear(store::Connection& db, std::string_view user_id);

}  // namespace lockout
}  // namespace identity
