#include "sshca/authority.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "security/aead.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "security/ssh.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;
namespace ssh = security::ssh;

namespace {

constexpr std::string_view kKeyColumns =
    "SELECT k.id, k.public_key, k.fingerprint, k.active, k.created_at, k.retired_at, "
    "(SELECT MAX(valid_before) FROM ssh_certificates c WHERE c.ca_key_id = k.id), "
    "(SELECT COUNT(*) FROM ssh_certificates c WHERE c.ca_key_id = k.id) FROM ssh_ca_keys k ";

constexpr std::string_view kCertColumns =
    "SELECT id, user_id, ca_key_id, serial, key_id, principals, key_type, key_fingerprint, certificate, node_id, "
    "valid_after, valid_before, created_at, revoked_at FROM ssh_certificates ";

CaKey key_row(store::Statement& q) {
  CaKey k{q.text(0), q.text(1), q.text(2), q.int64(3) == 1, q.int64(4), q.int64_or_null(5), std::nullopt, q.int64(7)};
  if (!k.active) k.trusted_until = q.int64_or_null(6).value_or(k.retired_at.value_or(0));
  return k;
}

SshCertificate cert_row(store::Statement& q) {
  std::vector<std::string> principals;
  json::value stored = json::parse(q.text(5));
  for (const auto& p : stored.as_array()) principals.emplace_back(p.as_string());
  return {q.text(0),
          q.text(1),
          q.text(2),
          static_cast<std::uint64_t>(q.int64(3)),
          q.text(4),
          std::move(principals),
          q.text(6),
          q.text(7),
          q.text(8),
          q.text_or_null(9),
          q.int64(10),
          q.int64(11),
          q.int64(12),
          q.int64_or_null(13)};
}

// A principal as sshd compares it with a user name: 1-64 characters, no separators.
void check_principals(const std::vector<std::string>& principals) {
  if (principals.empty()) throw common::ApiError::validation("'principals': at least one principal");
  for (const auto& p : principals)
    for (char ch : p)
      if (ch == ',' || ch == ' ' || ch == '*' || ch == '?' || ch == '!')
        throw common::ApiError::validation("'principals': no commas, spaces or wildcards in a principal");
}

// A serial no certificate of this CA carries yet: 63 random bits, never zero.
std::uint64_t fresh_serial(store::Connection& db) {
  for (;;) {
    std::uint64_t serial = 0;
    for (unsigned char ch : security::random_bytes(8)) serial = (serial << 8) | ch;
    serial &= 0x7fffffffffffffffULL;
    if (serial != 0 && !db.query_int("SELECT 1 FROM ssh_certificates WHERE serial = ?",
                                     static_cast<std::int64_t>(serial)))
      return serial;
  }
}

}  // namespace

SshAuthority::SshAuthority(store::Database& db, std::string_view key32, SshCaSettings settings)
    : db_(db), seal_key_(security::hmac_sha256(key32, "shardlyn ssh ca keys")), settings_(settings) {}

std::vector<CaKey> SshAuthority::keys() {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kKeyColumns) + "ORDER BY k.created_at DESC, k.id");
    std::vector<CaKey> out;
    while (q->step()) out.push_back(key_row(*q));
    return out;
  });
}

std::vector<CaKey> SshAuthority::trusted_keys(std::int64_t now) {
  std::vector<CaKey> out;
  for (auto& k : keys())
    if (k.active || k.trusted_until.value_or(0) > now) out.push_back(std::move(k));
  std::stable_partition(out.begin(), out.end(), [](const CaKey& k) { return k.active; });
  return out;
}

CaKey SshAuthority::create_key(store::Connection& db, const Caller& caller, std::int64_t now) {
  auto pair = ssh::generate_ed25519();
  std::string id = security::uuid_v4();
  std::string blob = ssh::ed25519_blob(pair.public_key);
  CaKey k{id, ssh::format_public_key("ssh-ed25519", blob, "shardlyn-ca-" + id), ssh::fingerprint_sha256(blob), true,
          now};
  db.execute(
      "INSERT INTO ssh_ca_keys (id, public_key, fingerprint, sealed_seed, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
      k.id, k.public_key, k.fingerprint, security::base64_encode(security::aead_seal(seal_key_, pair.seed, id)), now);
  audit::record(db, "ssh_ca.key_created", caller.actor(), {}, {}, {{"id", id}, {"fingerprint", k.fingerprint}});
  return k;
}

CaKey SshAuthority::generate(const Caller& caller) {
  return db_.write([&](store::Connection& db) {
    if (db.query_int("SELECT 1 FROM ssh_ca_keys WHERE active = 1"))
      throw common::ApiError::conflict("an active CA key exists: rotate it to replace it");
    return create_key(db, caller, store::unix_now());
  });
}

CaKey SshAuthority::rotate(const Caller& caller) {
  return db_.write([&](store::Connection& db) {
    std::int64_t now = store::unix_now();
    auto old = db.query_text("SELECT id FROM ssh_ca_keys WHERE active = 1");
    if (!old) throw common::ApiError::conflict("no active CA key to rotate: generate one first");
    db.execute("UPDATE ssh_ca_keys SET active = 0, retired_at = ? WHERE id = ?", now, *old);
    audit::record(db, "ssh_ca.key_retired", caller.actor(), {}, {}, {{"id", *old}});
    return create_key(db, caller, now);
  });
}

std::string SshAuthority::open_seed(std::string_view key_id, std::string_view sealed) const {
  auto raw = security::base64_decode(sealed);
  auto seed = raw ? security::aead_open(seal_key_, *raw, key_id) : std::nullopt;
  if (!seed) throw std::runtime_error("the SSH CA key cannot be opened with SHARDLYN_ENCRYPTION_KEY");
  return *seed;
}

SshCertificate SshAuthority::sign(const Caller& caller, const CertificateRequest& request) {
  auto key = ssh::parse_public_key(request.public_key);
  if (!key)
    throw common::ApiError::validation(
        "'public_key': an OpenSSH public key (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of 2048 bits or "
        "more)");
  check_principals(request.principals);
  std::int64_t hours = request.validity_hours.value_or(settings_.default_validity_hours);
  if (hours > settings_.max_validity_hours)
    throw common::ApiError::validation("'validity_hours': at most " + std::to_string(settings_.max_validity_hours));
  return db_.write([&](store::Connection& db) {
    if (request.node_id &&
        !db.query_int("SELECT 1 FROM nodes WHERE id = ? AND org_id = ?", *request.node_id, caller.org_id))
      throw common::ApiError::not_found("node not found");
    auto q = db.prepare("SELECT id, sealed_seed FROM ssh_ca_keys WHERE active = 1");
    if (!q->step()) throw common::ApiError::conflict("the SSH CA has no key: an administrator generates one");
    std::string ca_id = q->text(0);
    std::string seed = open_seed(ca_id, q->text(1));
    std::int64_t now = store::unix_now();
    SshCertificate c{security::uuid_v4(), caller.user_id, ca_id, fresh_serial(db), caller.email, request.principals,
                     key->type, ssh::fingerprint_sha256(key->blob)};
    c.node_id = request.node_id;
    c.valid_after = now;
    c.valid_before = now + hours * 3600;
    c.created_at = now;
    ssh::CertificateFields fields{*key, c.serial, ssh::kUserCertificate, c.key_id, c.principals,
                                  static_cast<std::uint64_t>(c.valid_after), static_cast<std::uint64_t>(c.valid_before)};
    fields.extensions = ssh::default_user_extensions();
    c.certificate = ssh::certificate_line(ssh::sign_certificate(fields, seed), c.key_id);
    db.execute(
        "INSERT INTO ssh_certificates (id, org_id, user_id, ca_key_id, serial, key_id, principals, key_type, "
        "key_fingerprint, certificate, node_id, valid_after, valid_before, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        c.id, caller.org_id, c.user_id, c.ca_key_id, static_cast<std::int64_t>(c.serial), c.key_id,
        json::serialize(json::value_from(c.principals)), c.key_type, c.key_fingerprint, c.certificate, c.node_id,
        c.valid_after, c.valid_before, c.created_at);
    audit::record(db, "ssh.certificate_signed", caller.actor(), caller.org_id, {},
                  {{"id", c.id}, {"serial", std::to_string(c.serial)}, {"principals", json::value_from(c.principals)}});
    return c;
  });
}

std::vector<SshCertificate> SshAuthority::list(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kCertColumns) + "WHERE org_id = ? ORDER BY created_at DESC, id");
    q->bind_all(caller.org_id);
    std::vector<SshCertificate> out;
    while (q->step()) out.push_back(cert_row(*q));
    return out;
  });
}

SshCertificate SshAuthority::get(const Caller& caller, std::string_view id) {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kCertColumns) + "WHERE org_id = ? AND id = ?");
    q->bind_all(caller.org_id, id);
    if (!q->step()) throw common::ApiError::not_found("certificate not found");
    return cert_row(*q);
  });
}

SshCertificate SshAuthority::revoke(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    auto revoked = db.query_int("SELECT revoked_at IS NOT NULL FROM ssh_certificates WHERE org_id = ? AND id = ?",
                                caller.org_id, id);
    if (!revoked) throw common::ApiError::not_found("certificate not found");
    if (*revoked) throw common::ApiError::conflict("the certificate is revoked already");
    db.execute("UPDATE ssh_certificates SET revoked_at = ? WHERE id = ?", store::unix_now(), id);
    audit::record(db, "ssh.certificate_revoked", caller.actor(), caller.org_id, {}, {{"id", id}});
  });
  return get(caller, id);
}

std::string SshAuthority::revocation_list(std::int64_t now) {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(
        "SELECT k.public_key, c.serial FROM ssh_certificates c JOIN ssh_ca_keys k ON k.id = c.ca_key_id "
        "WHERE c.revoked_at IS NOT NULL AND c.valid_before > ? ORDER BY k.id, c.serial");
    q->bind_all(now);
    std::map<std::string, std::vector<std::uint64_t>> by_ca;
    while (q->step()) by_ca[q->text(0)].push_back(static_cast<std::uint64_t>(q->int64(1)));
    std::vector<ssh::RevokedSerials> revoked;
    for (auto& [line, serials] : by_ca) revoked.push_back({ssh::parse_public_key(line)->blob, std::move(serials)});
    // Revocations are never undone: their count grows with every one.
    auto version = db.query_int("SELECT COUNT(*) FROM ssh_certificates WHERE revoked_at IS NOT NULL").value_or(0);
    return ssh::key_revocation_list(static_cast<std::uint64_t>(version), static_cast<std::uint64_t>(now), revoked,
                                    "shardlyn");
  });
}

}  // namespace shardlyn
