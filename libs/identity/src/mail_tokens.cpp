#include "identity/mail_tokens.hpp"

#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace identity::mail_tokens {

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO mail_tokens (hash, user_id, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kConsume =
    "UPDATE mail_tokens SET used_at = ? WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? "
    "RETURNING user_id";
constexpr std::string_view kSpendAll =
    "UPDATE mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL";
constexpr std::string_view kPurge =
    "DELETE FROM mail_tokens WHERE (used_at IS NOT NULL AND used_at < ?1) OR expires_at < ?1";

}  // namespace

std::string create(store::Connection& db, std::string_view user_id, std::string_view purpose, std::int64_t ttl_s) {
  std::string token = security::random_token(32);
  std::int64_t now = store::unix_now();
  db.execute(kInsert, security::sha256_hex(token), user_id, purpose, now, now + ttl_s);
  return token;
}

std::optional<std::string> consume(store::Connection& db, std::string_view token, std::string_view purpose) {
  std::int64_t now = store::unix_now();
  return db.query_text(kConsume, now, security::sha256_hex(token), purpose, now);
}

void spend_all(store::Connection& db, std::string_view user_id, std::string_view purpose) {
  db.execute(kSpendAll, store::unix_now(), user_id, purpose);
}

int purge(store::Connection& db, std::int64_t cutoff) { return db.execute(kPurge, cutoff); }

}  // namespace identity::mail_tokens
