#include "identity/sessions.hpp"

#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace identity::sessions {

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO sessions (id, user_id, refresh_hash, ip, user_agent, created_at, last_used_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kByRefresh =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at FROM sessions "
    "WHERE refresh_hash = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr std::string_view kRetiredOwner =
    "SELECT r.session_id, s.user_id FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id "
    "WHERE r.hash = ?";
constexpr std::string_view kRetire =
    "INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES (?, ?, ?)";
constexpr std::string_view kSetRefresh = "UPDATE sessions SET refresh_hash = ?, last_used_at = ?, ip = ? WHERE id = ?";
constexpr std::string_view kLive =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at FROM sessions "
    "WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr std::string_view kLiveForUser =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at FROM sessions "
    "WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, rowid DESC";
constexpr std::string_view kRevoke =
    "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr std::string_view kRevokeAll =
    "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND id != ? AND revoked_at IS NULL";

constexpr std::string_view kLiveById =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at FROM sessions "
    "WHERE id = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr std::string_view kAllLive =
    "SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at FROM sessions "
    "WHERE revoked_at IS NULL AND expires_at > ?1 AND (?2 IS NULL OR user_id = ?2) "
    "ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4";
constexpr std::string_view kCountAllLive =
    "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1 AND (?2 IS NULL OR user_id = ?2)";

constexpr std::string_view kPurge =
    "DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < ?1) OR expires_at < ?1";

Session read_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4), q.int64(5), q.int64(6)};
}

std::string new_refresh_token() { return security::random_token(32); }

}  // namespace

IssuedSession create(store::Connection& db, std::string_view user_id, std::string_view ip, std::string_view user_agent,
                     std::int64_t ttl_s) {
  std::int64_t now = store::unix_now();
  IssuedSession out;
  out.session = {security::random_id("ses_", 24),
                 std::string(user_id),
                 std::string(ip),
                 std::string(user_agent),
                 now,
                 now,
                 now + ttl_s};
  out.refresh_token = new_refresh_token();
  const Session& s = out.session;
  db.execute(kInsert, s.id, s.user_id, security::sha256_hex(out.refresh_token), s.ip, s.user_agent, s.created_at,
             s.last_used_at, s.expires_at);
  return out;
}

Rotation rotate(store::Connection& db, std::string_view refresh_token, std::string_view ip) {
  std::int64_t now = store::unix_now();
  std::string hash = security::sha256_hex(refresh_token);
  Rotation r;
  std::optional<Session> session;
  {
    auto q = db.prepare(kByRefresh);
    q->bind_all(hash, now);
    if (q->step()) session = read_row(*q);
  }
  if (session) {
    db.execute(kRetire, hash, session->id, now);
    r.issued.refresh_token = new_refresh_token();
    db.execute(kSetRefresh, security::sha256_hex(r.issued.refresh_token), now, ip, session->id);
    session->last_used_at = now;
    session->ip = std::string(ip);
    r.outcome = Rotation::Outcome::Rotated;
    r.user_id = session->user_id;
    r.session_id = session->id;
    r.issued.session = std::move(*session);
    return r;
  }
  {
    auto q = db.prepare(kRetiredOwner);
    q->bind_all(hash);
    if (!q->step()) return r;
    r.session_id = q->text(0);
    r.user_id = q->text(1);
  }
  r.outcome = Rotation::Outcome::Reused;
  revoke(db, r.session_id, "refresh token reused");
  return r;
}

std::optional<Session> live(store::Connection& db, std::string_view id, std::string_view user_id) {
  auto q = db.prepare(kLive);
  q->bind_all(id, user_id, store::unix_now());
  if (!q->step()) return std::nullopt;
  return read_row(*q);
}

std::vector<Session> live_for_user(store::Connection& db, std::string_view user_id) {
  auto q = db.prepare(kLiveForUser);
  q->bind_all(user_id, store::unix_now());
  std::vector<Session> out;
  while (q->step()) out.push_back(read_row(*q));
  return out;
}

std::optional<Session> live_by_id(store::Connection& db, std::string_view id) {
  auto q = db.prepare(kLiveById);
  q->bind_all(id, store::unix_now());
  if (!q->step()) return std::nullopt;
  return read_row(*q);
}

std::pair<std::vector<Session>, std::int64_t> all_live(store::Connection& db, const std::optional<std::string>& user_id,
                                                       std::int64_t limit, std::int64_t offset) {
  std::int64_t now = store::unix_now();
  std::int64_t total = db.query_int(kCountAllLive, now, user_id).value_or(0);
  auto q = db.prepare(kAllLive);
  q->bind_all(now, user_id, limit, offset);
  std::vector<Session> out;
  while (q->step()) out.push_back(read_row(*q));
  return {std::move(out), total};
}

std::int64_t count_live(store::Connection& db) {
  return db.query_int(kCountAllLive, store::unix_now(), std::optional<std::string>{}).value_or(0);
}

bool revoke(store::Connection& db, std::string_view id, std::string_view reason) {
  std::int64_t now = store::unix_now();
  return db.execute(kRevoke, now, reason, id, now) == 1;
}

int revoke_all(store::Connection& db, std::string_view user_id, std::string_view keep, std::string_view reason) {
  return db.execute(kRevokeAll, store::unix_now(), reason, user_id, keep);
}

int purge_ended(store::Connection& db, std::int64_t cutoff) { return db.execute(kPurge, cutoff); }

}  // namespace identity::sessions
