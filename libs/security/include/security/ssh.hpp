// OpenSSH formats: the SSH wire encoding (RFC 4251), public keys as authorized_keys lines,
// ed25519 keys, user certificates (OpenSSH PROTOCOL.certkeys) and key revocation lists by
// serial (OpenSSH PROTOCOL.krl).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace security::ssh {

// Appends RFC 4251 data types to a byte string.
class Writer {
 public:
  Writer& byte(std::uint8_t v);
  Writer& u32(std::uint32_t v);
  Writer& u64(std::uint64_t v);
  Writer& string(std::string_view v);  // uint32 length, then the bytes
  Writer& raw(std::string_view v);     // the bytes as they are
  const std::string& bytes() const noexcept { return out_; }

 private:
  std::string out_;
};

// Reads RFC 4251 data types; each getter returns nullopt when the input is too short.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::optional<std::uint32_t> u32();
  std::optional<std::uint64_t> u64();
  std::optional<std::string_view> string();
  bool empty() const noexcept { return in_.empty(); }

 private:
  std::string_view in_;
};

// A public key as an authorized_keys line names it: "type base64(blob) [comment]".
struct PublicKey {
  std::string type;  // "ssh-ed25519", "ecdsa-sha2-nistp256|384|521" or "ssh-rsa"
  std::string blob;  // the wire encoding, starting with string(type)
  std::string comment;
};

// Parses an authorized_keys line of a plain (not certificate) ssh-ed25519, ecdsa-sha2-nistp*
// or ssh-rsa key (at least 2048 bits); nullopt when the text, the base64 or the blob's
// structure is not one of those, or the blob names another type than the line.
std::optional<PublicKey> parse_public_key(std::string_view line);
// "type base64(blob)" with " comment" when there is one.
std::string format_public_key(std::string_view type, std::string_view blob, std::string_view comment = {});
// "SHA256:" + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints it.
std::string fingerprint_sha256(std::string_view blob);

// An ed25519 key pair: the 32-byte private seed and the 32-byte public key.
struct Ed25519Key {
  std::string seed;
  std::string public_key;
};
Ed25519Key generate_ed25519();
// The public half of a 32-byte seed; throws std::invalid_argument on another length.
std::string ed25519_public_key(std::string_view seed);
// The wire blob of an ed25519 public key: string("ssh-ed25519") string(public_key).
std::string ed25519_blob(std::string_view public_key);
// The 64-byte ed25519 signature of data under seed.
std::string ed25519_sign(std::string_view seed, std::string_view data);

inline constexpr std::uint32_t kUserCertificate = 1;
inline constexpr std::uint32_t kHostCertificate = 2;

// The usual extensions `ssh-keygen -s` grants a user certificate, in the sorted order the
// format requires.
std::vector<std::string> default_user_extensions();

// What a certificate states. Extensions are sorted (and duplicates dropped) when encoded;
// critical options are (name, value) pairs, each value encoded as one string, sorted by name.
struct CertificateFields {
  PublicKey key;
  std::uint64_t serial = 0;
  std::uint32_t type = kUserCertificate;
  std::string key_id;
  std::vector<std::string> principals;
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;
  std::vector<std::pair<std::string, std::string>> critical_options;
  std::vector<std::string> extensions;
};

// The certificate blob (type "<key type>-cert-v01@openssh.com", a random 32-byte nonce),
// signed by the ed25519 CA whose seed is given. Throws std::invalid_argument on a zero
// serial, valid_after >= valid_before or a seed of another length.
std::string sign_certificate(const CertificateFields& fields, std::string_view ca_seed);
// The certificate as an OpenSSH public key line ("<cert type> base64 comment").
std::string certificate_line(std::string_view certificate_blob, std::string_view comment = {});

// Revoked serials of the certificates one CA key signed.
struct RevokedSerials {
  std::string ca_blob;  // the CA's public key blob
  std::vector<std::uint64_t> serials;
};

// A binary KRL (PROTOCOL.krl, format version 1) with one certificate section per CA holding
// its serial list (sorted, duplicates dropped; zero serials are skipped: KRLs cannot name them).
std::string key_revocation_list(std::uint64_t krl_version, std::uint64_t generated_date,
                                const std::vector<RevokedSerials>& revoked, std::string_view comment = {});

}  // namespace security::ssh
