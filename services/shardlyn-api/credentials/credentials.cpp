#include "credentials/credentials.hpp"

#include <stdexcept>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "security/aead.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::string_view kColumns =
    "SELECT id, provider, name, hint, is_default, created_by, created_at, updated_at, verified_at, verify_valid, "
    "verify_message FROM credentials ";

Credential row(store::Statement& q) {
  auto valid = q.int64_or_null(9);
  return {q.text(0),     q.text(1),          q.text(2),
          q.text(3),     q.int64(4) == 1,    q.text(5),
          q.int64(6),    q.int64(7),         q.int64_or_null(8),
          valid ? std::optional<bool>(*valid == 1) : std::nullopt, q.text_or_null(10)};
}

Credential find(store::Connection& db, const Caller& caller, std::string_view id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE org_id = ? AND id = ?");
  q->bind_all(caller.org_id, id);
  if (!q->step()) throw common::ApiError::not_found("credential not found");
  return row(*q);
}

void check_name_free(store::Connection& db, const Caller& caller, std::string_view name, std::string_view id) {
  if (db.query_int("SELECT 1 FROM credentials WHERE org_id = ? AND name = ? AND id <> ?", caller.org_id, name, id))
    throw common::ApiError::conflict("a credential with this name exists");
}

}  // namespace

Credentials::Credentials(store::Database& db, std::string_view key32, ProviderSettings settings)
    : db_(db), seal_key_(security::hmac_sha256(key32, "shardlyn cloud credentials")), settings_(std::move(settings)) {}

std::string Credentials::seal(std::string_view id, const json::object& secrets) const {
  return security::base64_encode(security::aead_seal(seal_key_, json::serialize(secrets), id));
}

std::vector<Credential> Credentials::list(const Caller& caller, const std::optional<std::string>& provider) {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kColumns) + "WHERE org_id = ? AND (? IS NULL OR provider = ?) ORDER BY created_at DESC, id");
    q->bind_all(caller.org_id, provider, provider);
    std::vector<Credential> out;
    while (q->step()) out.push_back(row(*q));
    return out;
  });
}

Credential Credentials::get(const Caller& caller, std::string_view id) {
  return db_.read([&](store::Connection& db) { return find(db, caller, id); });
}

Credential Credentials::create(const Caller& caller, std::string_view provider, std::string_view name,
                               const json::object& secrets, bool make_default) {
  auto checked = providers::check_secrets(provider, secrets);
  std::string id = security::uuid_v4();
  return db_.write([&](store::Connection& db) {
    check_name_free(db, caller, name, id);
    bool first = !db.query_int("SELECT 1 FROM credentials WHERE org_id = ? AND provider = ?", caller.org_id, provider);
    if (make_default && !first)
      db.execute("UPDATE credentials SET is_default = 0 WHERE org_id = ? AND provider = ?", caller.org_id, provider);
    std::int64_t now = store::unix_now();
    db.execute(
        "INSERT INTO credentials (id, org_id, provider, name, sealed_secret, hint, is_default, created_by, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, caller.org_id, provider, name, seal(id, checked), providers::hint(provider, checked),
        (first || make_default) ? 1 : 0, caller.user_id, now, now);
    audit::record(db, "credential.created", caller.actor(), caller.org_id, {},
                  {{"id", id}, {"provider", provider}, {"name", name}});
    return find(db, caller, id);
  });
}

Credential Credentials::update(const Caller& caller, std::string_view id, const CredentialChanges& changes) {
  return db_.write([&](store::Connection& db) {
    auto c = find(db, caller, id);
    std::int64_t now = store::unix_now();
    if (changes.name) {
      check_name_free(db, caller, *changes.name, id);
      db.execute("UPDATE credentials SET name = ?, updated_at = ? WHERE id = ?", *changes.name, now, id);
    }
    if (changes.secrets) {
      auto checked = providers::check_secrets(c.provider, *changes.secrets);
      db.execute(
          "UPDATE credentials SET sealed_secret = ?, hint = ?, updated_at = ?, verified_at = NULL, verify_valid = NULL, "
          "verify_message = NULL WHERE id = ?",
          seal(id, checked), providers::hint(c.provider, checked), now, id);
    }
    audit::record(db, "credential.updated", caller.actor(), caller.org_id, {},
                  {{"id", id}, {"secrets_changed", changes.secrets.has_value()}});
    return find(db, caller, id);
  });
}

void Credentials::remove(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (db.execute("DELETE FROM credentials WHERE org_id = ? AND id = ?", caller.org_id, id) == 0)
      throw common::ApiError::not_found("credential not found");
    audit::record(db, "credential.deleted", caller.actor(), caller.org_id, {}, {{"id", id}});
  });
}

Credential Credentials::make_default(const Caller& caller, std::string_view id) {
  return db_.write([&](store::Connection& db) {
    auto c = find(db, caller, id);
    db.execute("UPDATE credentials SET is_default = 0 WHERE org_id = ? AND provider = ?", caller.org_id, c.provider);
    db.execute("UPDATE credentials SET is_default = 1 WHERE id = ?", id);
    audit::record(db, "credential.default_set", caller.actor(), caller.org_id, {}, {{"id", id}});
    return find(db, caller, id);
  });
}

std::pair<Credential, VerifyOutcome> Credentials::verify(const Caller& caller, std::string_view id) {
  auto [provider, sealed] = db_.read([&](store::Connection& db) {
    auto c = find(db, caller, id);
    return std::pair{c.provider, *db.query_text("SELECT sealed_secret FROM credentials WHERE id = ?", id)};
  });
  auto raw = security::base64_decode(sealed);
  auto plain = raw ? security::aead_open(seal_key_, *raw, id) : std::nullopt;
  if (!plain) throw std::runtime_error("a credential cannot be opened with SHARDLYN_ENCRYPTION_KEY");
  auto outcome = verify_with_provider(settings_, provider, json::parse(*plain).as_object());
  auto c = db_.write([&](store::Connection& db) {
    db.execute("UPDATE credentials SET verified_at = ?, verify_valid = ?, verify_message = ? WHERE org_id = ? AND id = ?",
               store::unix_now(), outcome.valid ? 1 : 0, outcome.message, caller.org_id, id);
    audit::record(db, "credential.verified", caller.actor(), caller.org_id, {}, {{"id", id}, {"valid", outcome.valid}});
    return find(db, caller, id);
  });
  return {std::move(c), std::move(outcome)};
}

}  // namespace shardlyn
