#include "users.hpp"

#include <algorithm>

#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace auth::users {

namespace {

constexpr std::string_view kByEmail =
    "SELECT id, email, name, password_hash, role, tier, email_verified, suspended, failed_logins, locked_until, "
    "created_at, updated_at, COALESCE((SELECT enabled FROM totp WHERE totp.user_id = users.id), 0) FROM users WHERE "
    "email = ?";
constexpr std::string_view kById =
    "SELECT id, email, name, password_hash, role, tier, email_verified, suspended, failed_logins, locked_until, "
    "created_at, updated_at, COALESCE((SELECT enabled FROM totp WHERE totp.user_id = users.id), 0) FROM users WHERE id "
    "= ?";
constexpr std::string_view kLiveSession =
    "SELECT users.id, email, name, password_hash, role, tier, email_verified, suspended, failed_logins, locked_until, "
    "users.created_at, updated_at, COALESCE((SELECT enabled FROM totp WHERE totp.user_id = users.id), 0), "
    "sessions.expires_at FROM sessions JOIN users ON users.id = sessions.user_id "
    "WHERE sessions.id = ? AND sessions.user_id = ? AND sessions.revoked_at IS NULL";
constexpr std::string_view kInsert =
    "INSERT INTO users (id, email, name, password_hash, role, tier, email_verified, suspended, failed_logins, "
    "locked_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?) ON CONFLICT (email) DO NOTHING";
constexpr std::string_view kSetPassword = "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kSetVerified = "UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ?";
constexpr std::string_view kSetName = "UPDATE users SET name = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kSetEmail = "UPDATE users SET email = ?, email_verified = 0, updated_at = ? WHERE id = ?";

constexpr std::string_view kFilter =
    " FROM users WHERE (?1 IS NULL OR email LIKE ?1 ESCAPE '\\' OR name LIKE ?1 ESCAPE '\\') "
    "AND (?2 IS NULL OR tier = ?2) AND (?3 IS NULL OR role = ?3) AND (?4 IS NULL OR suspended = ?4)";
constexpr std::string_view kSearchColumns =
    "SELECT id, email, name, password_hash, role, tier, email_verified, suspended, failed_logins, locked_until, "
    "created_at, updated_at, COALESCE((SELECT enabled FROM totp WHERE totp.user_id = users.id), 0)";
constexpr std::string_view kAdminFields =
    "UPDATE users SET role = COALESCE(?, role), tier = COALESCE(?, tier), suspended = COALESCE(?, suspended), "
    "updated_at = ? WHERE id = ?";

constexpr std::string_view kUpgradeHash = "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?";

User from_row(const store::Statement& q) {
  User u;
  u.id = q.text(0);
  u.email = q.text(1);
  u.name = q.text(2);
  u.password_hash = q.text(3);
  u.role = q.text(4);
  u.tier = q.text(5);
  u.email_verified = q.int64(6) != 0;
  u.suspended = q.int64(7) != 0;
  u.failed_logins = q.int64(8);
  u.locked_until = q.int64(9);
  u.created_at = q.int64(10);
  u.updated_at = q.int64(11);
  u.two_factor_enabled = q.int64(12) != 0;
  return u;
}

std::optional<User> one(store::Connection& db, std::string_view sql, std::string_view key) {
  auto q = db.prepare(sql);
  q->bind_all(key);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

}  // namespace

std::pair<std::vector<User>, std::int64_t> search(store::Connection& db, const Search& filter, std::int64_t limit,
                                                  std::int64_t offset) {
  std::optional<std::string> like;
  if (filter.text) {
    like = "%";
    for (char c : *filter.text) {
      if (c == '%' || c == '_' || c == '\\') *like += '\\';
      *like += c;
    }
    *like += "%";
  }
  std::optional<std::int64_t> suspended;
  if (filter.suspended) suspended = *filter.suspended ? 1 : 0;
  std::string count_sql = "SELECT COUNT(*)" + std::string(kFilter);
  std::int64_t total = db.query_int(count_sql, like, filter.tier, filter.role, suspended).value_or(0);
  std::string page_sql =
      std::string(kSearchColumns) + std::string(kFilter) + " ORDER BY created_at DESC, rowid DESC LIMIT ?5 OFFSET ?6";
  auto q = db.prepare(page_sql);
  q->bind_all(like, filter.tier, filter.role, suspended, limit, offset);
  std::vector<User> out;
  while (q->step()) out.push_back(from_row(*q));
  return {std::move(out), total};
}

void set_admin_fields(store::Connection& db, std::string_view id, const std::optional<std::string>& role,
                      const std::optional<std::string>& tier, std::optional<bool> suspended) {
  db.execute(kAdminFields, role, tier, suspended, store::unix_now(), id);
}

std::string new_id() { return security::random_id("usr_", 24); }

std::optional<User> by_email(store::Connection& db, std::string_view email) { return one(db, kByEmail, email); }
std::optional<User> by_id(store::Connection& db, std::string_view id) { return one(db, kById, id); }

std::optional<LiveSession> live_session(store::Connection& db, std::string_view session_id, std::string_view user_id) {
  auto q = db.prepare(kLiveSession);
  q->bind_all(session_id, user_id);
  if (!q->step()) return std::nullopt;
  return LiveSession{from_row(*q), q->int64(13)};
}

bool insert(store::Connection& db, const User& u) {
  return db.execute(kInsert, u.id, u.email, u.name, u.password_hash, u.role, u.tier, u.email_verified, u.suspended,
                    u.created_at, u.updated_at) == 1;
}

void set_password(store::Connection& db, std::string_view id, std::string_view password_hash) {
  db.execute(kSetPassword, password_hash, store::unix_now(), id);
}

void upgrade_password_hash(store::Connection& db, std::string_view id, std::string_view old_hash,
                           std::string_view new_hash) {
  db.execute(kUpgradeHash, new_hash, id, old_hash);
}

void set_email_verified(store::Connection& db, std::string_view id) { db.execute(kSetVerified, store::unix_now(), id); }

void set_name(store::Connection& db, std::string_view id, std::string_view name) {
  db.execute(kSetName, name, store::unix_now(), id);
}

void set_email(store::Connection& db, std::string_view id, std::string_view email) {
  db.execute(kSetEmail, email, store::unix_now(), id);
}

}  // namespace auth::users
