#pragma once
// Single-use tokens sent by mail (email verification, password reset, invitations): only a
// SHA-256 digest is stored. Needs the table
//   CREATE TABLE mail_tokens (
//     hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
//     purpose TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
//     used_at INTEGER) STRICT;
//   CREATE INDEX mail_tokens_by_user ON mail_tokens (user_id, purpose);
// Functions run on a connection inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/connection.hpp"

namespace identity::mail_tokens {

// A new token for `purpose`, valid ttl_s seconds.
std::string create(store::Connection& db, std::string_view user_id, std::string_view purpose, std::int64_t ttl_s);
// Marks the token used and returns its user; nullopt when unknown, used, expired or for
// another purpose.
std::optional<std::string> consume(store::Connection& db, std::string_view token, std::string_view purpose);
// Marks every unused token of the user for `purpose` used (e.g. after a password reset).
void spend_all(store::Connection& db, std::string_view user_id, std::string_view purpose);
// Deletes tokens used or expired before `cutoff`; returns how many.
int purge(store::Connection& db, std::int64_t cutoff);

}  // namespace identity::mail_tokens
