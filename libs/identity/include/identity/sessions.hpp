#pragma once
// Login sessions and their rotating refresh tokens. Every function runs on a connection
// inside the caller's transaction; refresh tokens are stored only as SHA-256 digests.
//
// A session is one refresh-token family: each rotation retires the presented token, and
// presenting a retired one again revokes the whole session (someone kept a copy).
//
// Tables the service's migrations must create (a `users` table with TEXT `id` is referenced):
//   CREATE TABLE sessions (
//     id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
//     refresh_hash TEXT NOT NULL UNIQUE, ip TEXT NOT NULL, user_agent TEXT NOT NULL,
//     created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
//     revoked_at INTEGER, revoke_reason TEXT) STRICT;
//   CREATE INDEX sessions_by_user ON sessions (user_id, revoked_at);
//   CREATE TABLE retired_refresh_tokens (
//     hash TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
//     retired_at INTEGER NOT NULL) STRICT;
//   CREATE INDEX retired_refresh_tokens_by_session ON retired_refresh_tokens (session_id);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/connection.hpp"

namespace identity {

// Where a request came from, recorded on sessions and audit entries.
struct Client {
  std::string ip;
  std::string user_agent;
};

struct Session {
  std::string id;
  std::string user_id;
  std::string ip;
  std::string user_agent;
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::int64_t expires_at = 0;
};

// A session together with the refresh token that continues it (shown once).
struct IssuedSession {
  Session session;
  std::string refresh_token;
};

// What presenting a refresh token led to.
struct Rotation {
  enum class Outcome { Rotated, Unknown, Reused } outcome = Outcome::Unknown;
  IssuedSession issued;  // Rotated: the session with its new refresh token
  std::string user_id;   // Rotated and Reused: whose session it was
  std::string session_id;
};

namespace sessions {

IssuedSession create(store::Connection& db, std::string_view user_id, std::string_view ip, std::string_view user_agent,
                     std::int64_t ttl_s);

// Rotates a live session's refresh token. A token that was already rotated away revokes its
// session (someone kept a copy); unknown, expired or revoked ones change nothing.
Rotation rotate(store::Connection& db, std::string_view refresh_token, std::string_view ip);

// A live (not revoked, not expired) session of this user, or nullopt.
std::optional<Session> live(store::Connection& db, std::string_view id, std::string_view user_id);
std::vector<Session> live_for_user(store::Connection& db, std::string_view user_id);

// A live session of anyone.
std::optional<Session> live_by_id(store::Connection& db, std::string_view id);
// One page of every live session (of one user when user_id is set), newest first, with the
// total count.
std::pair<std::vector<Session>, std::int64_t> all_live(store::Connection& db, const std::optional<std::string>& user_id,
                                                       std::int64_t limit, std::int64_t offset);
std::int64_t count_live(store::Connection& db);

// Revokes one live session; false when it is not live.
bool revoke(store::Connection& db, std::string_view id, std::string_view reason);
// Revokes every live session of the user except `keep` (empty = all); returns how many.
int revoke_all(store::Connection& db, std::string_view user_id, std::string_view keep, std::string_view reason);

// Deletes sessions (and their retired refresh tokens) that ended before `cutoff`; returns how many.
int purge_ended(store::Connection& db, std::int64_t cutoff);

}  // namespace sessions
}  // namespace identity
