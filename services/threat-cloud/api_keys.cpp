#include "api_keys.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/service.hpp"
#include "security/api_key.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"

namespace tc {

namespace {

constexpr std::string_view kEnsurePepper =
    "INSERT INTO service_meta (key, value) VALUES ('api_key_pepper', ?) ON CONFLICT (key) DO NOTHING";
constexpr std::string_view kSelectPepper = "SELECT value FROM service_meta WHERE key = 'api_key_pepper'";
constexpr std::string_view kInsertKey =
    "INSERT INTO api_keys (id, name, scopes, secret_digest, created_at, created_by, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kSelectKeyForAuth =
    "SELECT name, scopes, secret_digest, expires_at, revoked_at FROM api_keys WHERE id = ?";
constexpr std::string_view kCountKeys = "SELECT count(*) FROM api_keys";
constexpr std::string_view kListKeys =
    "SELECT id, name, scopes, created_at, created_by, expires_at, revoked_at FROM api_keys "
    "ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?";
constexpr std::string_view kRevokeKey =
    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL "
    "RETURNING id, name, scopes, created_at, created_by, expires_at, revoked_at";

constexpr std::string_view kKeyIdPrefix = "tck_";

std::string join_scopes(const std::vector<Scope>& scopes) {
  std::string out;
  for (auto s : scopes) {
    if (!out.empty()) out += ',';
    out += scope_name(s);
  }
  return out;
}

std::vector<Scope> split_scopes(std::string_view text) {
  std::vector<Scope> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    if (auto s = parse_scope(text.substr(0, comma))) out.push_back(*s);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Scope highest(const std::vector<Scope>& scopes) {
  Scope top = Scope::Read;
  for (auto s : scopes) top = std::max(top, s);
  return top;
}

ApiKeyRecord record_from(store::Statement& q) {
  return ApiKeyRecord{.id = q.text(0),
                      .name = q.text(1),
                      .scopes = split_scopes(q.text(2)),
                      .created_at = q.text(3),
                      .created_by = q.text(4),
                      .expires_at = q.text_or_null(5),
                      .revoked_at = q.text_or_null(6)};
}

}  // namespace

std::string_view scope_name(Scope scope) {
  switch (scope) {
    case Scope::Read: return "read";
    case Scope::Write: return "write";
    case Scope::Admin: return "admin";
  }
  return "read";
}

std::optional<Scope> parse_scope(std::string_view name) {
  if (name == "read") return Scope::Read;
  if (name == "write") return Scope::Write;
  if (name == "admin") return Scope::Admin;
  return std::nullopt;
}

ApiKeys::ApiKeys(store::Database& db, const std::vector<std::string>& bootstrap_keys) : db_(db) {
  pepper_ = db_.write([](store::Connection& c) {
    c.execute(kEnsurePepper, security::random_hex(32));
    return c.query_text(kSelectPepper).value_or("");
  });
  for (const auto& key : bootstrap_keys) {
    std::string digest = security::api_key_digest(pepper_, key);
    // A stable, non-secret id for logs and rate-limit buckets.
    std::string id = "boot_" + security::hmac_sha256_hex(pepper_, "bootstrap-id:" + key).substr(0, 12);
    bootstrap_.emplace_back(std::move(id), std::move(digest));
  }
}

NewApiKey ApiKeys::create(std::string name, std::vector<Scope> scopes, std::optional<std::int64_t> expires_at,
                          const Actor& by) {
  auto key = security::generate_api_key(kKeyIdPrefix);
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  ApiKeyRecord record{.id = key.id,
                      .name = std::move(name),
                      .scopes = std::move(scopes),
                      .created_at = common::rfc3339_now(),
                      .created_by = by.key_id,
                      .expires_at = expires_at ? std::optional(common::rfc3339_from_unix(*expires_at)) : std::nullopt};
  std::string digest = security::api_key_digest(pepper_, key.secret);
  db_.write([&](store::Connection& c) {
    c.execute(kInsertKey, record.id, record.name, join_scopes(record.scopes), digest, record.created_at,
              record.created_by, record.expires_at);
    boost::json::object details{
        {"name", record.name}, {"scopes", join_scopes(record.scopes)}, {"key", record.id + ".***"}};
    if (record.expires_at) details["expiresAt"] = *record.expires_at;
    record_audit(c, by, "key.create", "api_key", record.id, details);
  });
  return NewApiKey{std::move(record), key.full()};
}

std::pair<std::vector<ApiKeyRecord>, std::int64_t> ApiKeys::list(std::int64_t limit, std::int64_t offset) const {
  return db_.read([&](store::Connection& c) {
    std::vector<ApiKeyRecord> out;
    std::int64_t total = c.query_int(kCountKeys).value_or(0);
    auto q = c.prepare(kListKeys);
    q->bind_all(limit, offset);
    while (q->step()) out.push_back(record_from(*q));
    return std::pair{std::move(out), total};
  });
}

std::uint64_t ApiKeys::generation() const noexcept {
  return (revocations_.load() << 32) + db_.foreign_commits();
}

std::optional<ApiKeyRecord> ApiKeys::revoke(std::string_view id, const Actor& by) {
  // Counted after the commit: a request that read the key before it cannot put it back under
  // the new generation.
  struct Counted {
    std::atomic<std::uint64_t>& n;
    ~Counted() { n.fetch_add(1); }
  } counted{revocations_};
  return db_.write([&](store::Connection& c) -> std::optional<ApiKeyRecord> {
    auto q = c.prepare(kRevokeKey);
    q->bind_all(common::rfc3339_now(), id);
    if (!q->step()) return std::nullopt;
    auto record = record_from(*q);
    while (q->step()) {
    }
    record_audit(c, by, "key.revoke", "api_key", record.id, {{"name", record.name}});
    return record;
  });
}

ApiKeys::Verdict ApiKeys::authenticate(std::string_view token) const {
  // Bootstrap keys: compare against every digest, without stopping at a match.
  std::string digest = security::api_key_digest(pepper_, token);
  const std::pair<std::string, std::string>* matched = nullptr;
  for (const auto& entry : bootstrap_)
    if (security::constant_time_equal(digest, entry.second)) matched = &entry;
  if (matched) return {Caller{.key_id = matched->first, .name = "bootstrap", .scope = Scope::Admin}};

  auto key = security::parse_api_key(token);
  if (!key || !key->id.starts_with(kKeyIdPrefix)) return {};
  const std::uint64_t generation_before_read = generation();
  auto row = stored_.get(key->id, generation_before_read);
  if (!row) {
    auto found = db_.read([&](store::Connection& c) -> std::optional<StoredKey> {
      auto q = c.prepare(kSelectKeyForAuth);
      q->bind_all(key->id);
      if (!q->step()) return std::nullopt;
      return StoredKey{q->text(0), q->text(1), q->text(2), q->text_or_null(3), q->text_or_null(4)};
    });
    if (!found) return {};  // unknown ids are not remembered: they would only fill the memo
    row = std::make_shared<const StoredKey>(*found);
    stored_.put(key->id, std::move(*found), generation_before_read);
  }
  if (!security::api_key_matches(pepper_, key->secret, row->digest)) return {};
  if (row->revoked_at) return {.refusal = KeyRefusal::Revoked};
  if (row->expires_at) {
    auto expires = common::parse_rfc3339(*row->expires_at);
    if (!expires || *expires <= common::unix_seconds()) return {.refusal = KeyRefusal::Expired};
  }
  return {Caller{.key_id = key->id, .name = row->name, .scope = highest(split_scopes(row->scopes))}};
}

void install_auth_schemes(common::Service& service, const ApiKeys& keys, bool public_reads, bool anonymous_uploads) {
  auto check = [&keys](common::Request& req, Scope needed, bool anonymous_ok) {
    auto token = req.bearer_token();
    if (!token) {
      if (anonymous_ok && !req.headers.has("Authorization")) {
        req.principal = Caller{.name = "anonymous", .anonymous = true};
        return;  // limited per client IP
      }
      throw common::ApiError::unauthorized("missing API key: send Authorization: Bearer <key>");
    }
    auto verdict = keys.authenticate(*token);
    if (!verdict.caller) {
      switch (verdict.refusal) {
        case KeyRefusal::Expired: throw common::ApiError::unauthorized("API key has expired");
        case KeyRefusal::Revoked: throw common::ApiError::unauthorized("API key has been revoked");
        case KeyRefusal::Invalid: break;
      }
      throw common::ApiError::unauthorized("invalid API key");
    }
    req.rate_key = "key:" + verdict.caller->key_id;
    if (verdict.caller->scope < needed)
      throw common::ApiError::forbidden("this endpoint needs an API key with the '" + std::string(scope_name(needed)) +
                                        "' scope");
    req.principal = std::move(*verdict.caller);
  };
  service.auth_scheme("read", [check](common::Request& req) { check(req, Scope::Read, false); });
  service.auth_scheme("write", [check](common::Request& req) { check(req, Scope::Write, false); });
  service.auth_scheme("admin", [check](common::Request& req) { check(req, Scope::Admin, false); });
  service.auth_scheme("public-read",
                      [check, public_reads](common::Request& req) { check(req, Scope::Read, public_reads); });
  service.auth_scheme("public-write", [check, anonymous_uploads](common::Request& req) {
    check(req, Scope::Write, anonymous_uploads);
  });
}

}  // namespace tc
