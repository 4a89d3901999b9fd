#pragma once
// Accounts: the rows of `users` and the queries on them. Functions run on a connection inside
// the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/connection.hpp"

namespace shardlyn {

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;  // "" for accounts that only sign in through GitHub
  bool platform_admin = false;
  bool suspended = false;
  std::optional<std::string> github_id;
  std::int64_t failed_logins = 0;
  std::int64_t locked_until = 0;
  std::int64_t created_at = 0;
  bool mfa_enabled = false;
  bool email_verified = false;  // proven by a mailed link, by GitHub, or set by the operator
};

namespace users {

std::optional<User> find(store::Connection& db, std::string_view id);
std::optional<User> find_by_email(store::Connection& db, std::string_view email);
std::optional<User> find_by_github(store::Connection& db, std::string_view github_id);
std::int64_t count(store::Connection& db);

// Inserts an account with a new UUID; nullopt when the email address is taken.
std::optional<User> create(store::Connection& db, std::string_view email, std::string_view name,
                           std::string_view password_hash, bool platform_admin);
void set_password(store::Connection& db, std::string_view id, std::string_view password_hash);
// Swaps the hash only while it is still `old_hash` (a concurrent password change wins).
void replace_password_hash(store::Connection& db, std::string_view id, std::string_view old_hash,
                           std::string_view new_hash);
void mark_verified(store::Connection& db, std::string_view id);
void link_github(store::Connection& db, std::string_view id, std::string_view github_id);
bool set_suspended(store::Connection& db, std::string_view id, bool suspended);
bool remove(store::Connection& db, std::string_view id);

// One page of accounts, oldest first, optionally matching a search text (email or name).
std::pair<std::vector<User>, std::int64_t> list(store::Connection& db, const std::optional<std::string>& search,
                                                std::int64_t limit, std::int64_t offset);

}  // namespace users
}  // namespace shardlyn
