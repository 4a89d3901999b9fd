#include "tokens/api_tokens.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "common/error.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn::api_tokens {

namespace {

constexpr std::string_view kPrefix = "shardlyn_api_";
constexpr std::string_view kColumns =
    "SELECT id, org_id, user_id, name, secret_hash, last_four, permissions, created_at, expires_at, last_used_at, "
    "last_used_ip, revoked_at FROM api_tokens ";

bool all_of(std::string_view s, bool (*ok)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), ok); }
bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

ApiTokenRecord from_row(const store::Statement& q) {
  ApiTokenRecord r{
      q.text(0), q.text_or_null(1), q.text(2),          q.text(3),          q.text(4),          q.text(5),
      {},        q.int64(7),        q.int64_or_null(8), q.int64_or_null(9), q.text_or_null(10), q.int64_or_null(11)};
  auto parsed = boost::json::parse(q.text(6));
  for (const auto& v : parsed.as_array()) r.permissions.emplace(v.as_string());
  return r;
}

std::string permissions_json(const PermissionSet& set) { return boost::json::serialize(boost::json::value_from(set)); }

}  // namespace

bool is_id(std::string_view id) {
  if (id.size() == 16) return all_of(id, hex);  // tokens made before ids were UUIDs
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i)
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? id[i] != '-' : !hex(id[i])) return false;
  return true;
}

std::optional<Parts> parse(std::string_view token) {
  if (!token.starts_with(kPrefix)) return std::nullopt;
  token.remove_prefix(kPrefix.size());
  auto cut = token.find('_');
  if (cut == std::string_view::npos) return std::nullopt;
  Parts p{std::string(token.substr(0, cut)), std::string(token.substr(cut + 1))};
  if (!is_id(p.id) || p.secret.size() != 43 || !all_of(p.secret, base64url)) return std::nullopt;
  return p;
}

std::pair<ApiTokenRecord, std::string> create(store::Connection& db, std::string_view key,
                                              const std::optional<std::string>& org_id, std::string_view user_id,
                                              std::string_view name, const PermissionSet& permissions,
                                              std::optional<std::int64_t> expires_at) {
  std::string id = security::uuid_v4();
  std::string secret = security::random_token(32);
  std::string full = std::string(kPrefix) + id + "_" + secret;
  std::string last_four = full.substr(full.size() - 4);
  db.execute(
      "INSERT INTO api_tokens (id, org_id, user_id, name, secret_hash, last_four, permissions, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      id, org_id, user_id, name, security::hmac_sha256_hex(key, secret), last_four, permissions_json(permissions),
      store::unix_now(), expires_at);
  return {*find(db, id), std::move(full)};
}

std::optional<ApiTokenRecord> find(store::Connection& db, std::string_view id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

std::vector<ApiTokenRecord> list(store::Connection& db, const std::optional<std::string>& org_id,
                                 std::string_view user_id) {
  auto q = db.prepare(std::string(kColumns) +
                      "WHERE (?1 IS NOT NULL AND org_id = ?1) OR (?1 IS NULL AND org_id IS NULL AND user_id = ?2) "
                      "ORDER BY created_at DESC, id");
  q->bind_all(org_id, user_id);
  std::vector<ApiTokenRecord> out;
  while (q->step()) out.push_back(from_row(*q));
  return out;
}

bool revoke(store::Connection& db, std::string_view id, const std::optional<std::string>& org_id) {
  return db.execute(
             "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL AND "
             "((?3 IS NOT NULL AND org_id = ?3) OR (?3 IS NULL AND org_id IS NULL))",
             store::unix_now(), id, org_id) > 0;
}

void touch(store::Connection& db, std::string_view id, std::int64_t now, std::string_view ip) {
  db.execute("UPDATE api_tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?", now, ip, id);
}

}  // namespace shardlyn::api_tokens
