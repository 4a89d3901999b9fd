#pragma once
// The SSH Certificate Authority Endpoints' operations: ed25519 CA keys (the private seed sealed
// at rest), OpenSSH user certificates signed for an organisation's members, their revocation
// and the KRL that publishes it. Rotation retires the signing key; a retired key stays trusted
// until the last certificate it signed expires.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/access.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct SshCaSettings {
  std::int64_t max_validity_hours = 24;
  std::int64_t default_validity_hours = 8;
};

struct CaKey {
  std::string id;
  std::string public_key;  // authorized_keys line, as TrustedUserCAKeys takes it
  std::string fingerprint;
  bool active = false;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> retired_at;
  std::optional<std::int64_t> trusted_until;  // retired keys: the last valid_before of theirs
  std::int64_t certificates = 0;              // how many it signed
};

struct SshCertificate {
  std::string id;
  std::string user_id;
  std::string ca_key_id;
  std::uint64_t serial = 0;
  std::string key_id;
  std::vector<std::string> principals;
  std::string key_type;
  std::string key_fingerprint;
  std::string certificate;
  std::optional<std::string> node_id;
  std::int64_t valid_after = 0;
  std::int64_t valid_before = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> revoked_at;
};

struct CertificateRequest {
  std::string public_key;  // authorized_keys line of the user's key
  std::vector<std::string> principals;
  std::optional<std::int64_t> validity_hours;
  std::optional<std::string> node_id;
};

class SshAuthority {
 public:
  // key32: the service's encryption key; the CA seeds are sealed under a key derived from it.
  SshAuthority(store::Database& db, std::string_view key32, SshCaSettings settings);

  const SshCaSettings& settings() const noexcept { return settings_; }

  // The active key first, then the retired keys still trusted at `now`.
  std::vector<CaKey> trusted_keys(std::int64_t now);
  // Every key, newest first (admin).
  std::vector<CaKey> keys();
  // The first key; 409 when one is active already (rotate replaces it).
  CaKey generate(const Caller& caller);
  // A new active key; the old one is retired (409 when there is none to rotate).
  CaKey rotate(const Caller& caller);

  // Signs the caller's key with the active CA key (409 without one); 400 for a key that is not
  // ssh-ed25519, ecdsa-sha2-nistp* or ssh-rsa, or a validity beyond the maximum; 404 for a
  // node_id of another organisation.
  SshCertificate sign(const Caller& caller, const CertificateRequest& request);
  std::vector<SshCertificate> list(const Caller& caller);
  SshCertificate get(const Caller& caller, std::string_view id);
  // 409 when already revoked.
  SshCertificate revoke(const Caller& caller, std::string_view id);
  // The binary KRL of every revoked certificate still within its validity, by CA and serial.
  std::string revocation_list(std::int64_t now);

 private:
  CaKey create_key(store::Connection& db, const Caller& caller, std::int64_t now);
  std::string open_seed(std::string_view key_id, std::string_view sealed) const;

  store::Database& db_;
  std::string seal_key_;
  SshCaSettings settings_;
};

}  // namespace shardlyn
