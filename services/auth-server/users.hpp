#pragma once
// Accounts: rows and the SQL that reads and writes them.
// Every function runs on a connection inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/connection.hpp"

namespace auth {

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;
  std::string role = "user";
  std::string tier = "community";
  bool email_verified = false;
  bool suspended = false;
  std::int64_t failed_logins = 0;
  std::int64_t locked_until = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  bool two_factor_enabled = false;  // read only: TOTP confirmed
};

// Purposes of the single-use mail tokens (identity::mail_tokens).
inline constexpr std::string_view kVerifyEmail = "verify_email";
inline constexpr std::string_view kResetPassword = "reset_password";

namespace users {

// A fresh opaque id ("usr_" + 24 hex characters).
std::string new_id();

std::optional<User> by_email(store::Connection& db, std::string_view email);
std::optional<User> by_id(store::Connection& db, std::string_view id);
// The account owning session_id, if that session belongs to user_id and is not revoked, with
// the session's expiry (unix seconds; the caller compares it with its clock): the access-token
// check and the account in one query.
struct LiveSession {
  User user;
  std::int64_t expires_at = 0;
};
std::optional<LiveSession> live_session(store::Connection& db, std::string_view session_id, std::string_view user_id);

// Filters of the admin user search; empty ones match everything.
struct Search {
  std::optional<std::string> text;  // substring of email or name (case-insensitive)
  std::optional<std::string> tier;
  std::optional<std::string> role;
  std::optional<bool> suspended;
};
// One page of matching accounts, newest first, and the total number of matches.
std::pair<std::vector<User>, std::int64_t> search(store::Connection& db, const Search& filter, std::int64_t limit,
                                                  std::int64_t offset);

// Sets any of role, tier and suspended.
void set_admin_fields(store::Connection& db, std::string_view id, const std::optional<std::string>& role,
                      const std::optional<std::string>& tier, std::optional<bool> suspended);

// Inserts the account; false (and nothing written) when the email is already taken.
bool insert(store::Connection& db, const User& user);

void set_password(store::Connection& db, std::string_view id, std::string_view password_hash);
// Replaces the hash only if it is still `old_hash` (a rehash must not undo a password change).
void upgrade_password_hash(store::Connection& db, std::string_view id, std::string_view old_hash,
                           std::string_view new_hash);
void set_email_verified(store::Connection& db, std::string_view id);
void set_name(store::Connection& db, std::string_view id, std::string_view name);
// Changes the address and marks it unverified (the caller checked it is free).
void set_email(store::Connection& db, std::string_view id, std::string_view email);

}  // namespace users
}  // namespace auth
