#include "identity/users.hpp"

#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn::users {

namespace {

constexpr std::string_view kColumns =
    "SELECT id, email, name, password_hash, platform_admin, suspended, github_id, failed_logins, locked_until, "
    "created_at, COALESCE((SELECT enabled FROM totp WHERE totp.user_id = users.id), 0), email_verified FROM users ";
constexpr std::string_view kInsert =
    "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING";
constexpr std::string_view kSetPassword = "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kLinkGithub = "UPDATE users SET github_id = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kSetSuspended = "UPDATE users SET suspended = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kDelete = "DELETE FROM users WHERE id = ?";
constexpr std::string_view kSearch = "WHERE (?1 IS NULL OR email LIKE ?1 ESCAPE '\\' OR name LIKE ?1 ESCAPE '\\')";

User from_row(const store::Statement& q) {
  return {q.text(0),         q.text(1),  q.text(2),  q.text(3),  q.int64(4) != 0, q.int64(5) != 0,
          q.text_or_null(6), q.int64(7), q.int64(8), q.int64(9), q.int64(10) != 0, q.int64(11) != 0};
}

std::optional<User> one(store::Connection& db, std::string_view where, std::string_view value) {
  auto q = db.prepare(std::string(kColumns) + std::string(where));
  q->bind_all(value);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

std::optional<std::string> like_pattern(const std::optional<std::string>& search) {
  if (!search) return std::nullopt;
  std::string out = "%";
  for (char ch : *search) {
    if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "%";
}

}  // namespace

std::optional<User> find(store::Connection& db, std::string_view id) { return one(db, "WHERE id = ?", id); }
std::optional<User> find_by_email(store::Connection& db, std::string_view email) {
  return one(db, "WHERE email = ?", email);
}
std::optional<User> find_by_github(store::Connection& db, std::string_view github_id) {
  return one(db, "WHERE github_id = ?", github_id);
}
std::int64_t count(store::Connection& db) { return db.query_int("SELECT COUNT(*) FROM users").value_or(0); }

std::optional<User> create(store::Connection& db, std::string_view email, std::string_view name,
                           std::string_view password_hash, bool platform_admin) {
  std::string id = security::uuid_v4();
  std::int64_t now = store::unix_now();
  if (db.execute(kInsert, id, email, name, password_hash, platform_admin, now, now) == 0) return std::nullopt;
  return find(db, id);
}

void set_password(store::Connection& db, std::string_view id, std::string_view password_hash) {
  db.execute(kSetPassword, password_hash, store::unix_now(), id);
}

void replace_password_hash(store::Connection& db, std::string_view id, std::string_view old_hash,
                           std::string_view new_hash) {
  db.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", new_hash, id, old_hash);
}

void mark_verified(store::Connection& db, std::string_view id) {
  db.execute("UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ?", store::unix_now(), id);
}

void link_github(store::Connection& db, std::string_view id, std::string_view github_id) {
  db.execute(kLinkGithub, github_id, store::unix_now(), id);
}

bool set_suspended(store::Connection& db, std::string_view id, bool suspended) {
  return db.execute(kSetSuspended, suspended, store::unix_now(), id) > 0;
}

bool remove(store::Connection& db, std::string_view id) { return db.execute(kDelete, id) > 0; }

std::pair<std::vector<User>, std::int64_t> list(store::Connection& db, const std::optional<std::string>& search,
                                                std::int64_t limit, std::int64_t offset) {
  auto pattern = like_pattern(search);
  std::int64_t total = db.query_int("SELECT COUNT(*) FROM users " + std::string(kSearch), pattern).value_or(0);
  auto q = db.prepare(std::string(kColumns) + std::string(kSearch) + " ORDER BY created_at, id LIMIT ?2 OFFSET ?3");
  q->bind_all(pattern, limit, offset);
  std::vector<User> out;
  while (q->step()) out.push_back(from_row(*q));
  return {std::move(out), total};
}

}  // namespace shardlyn::users
