// JSON Web Tokens (RFC 7519) signed with one pinned algorithm: HS256, RS256 or ES256.
// Claims are exchanged as boost::json::object; the codec owns keys and verification policy.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace security {

enum class JwtAlgorithm { HS256, RS256, ES256 };

// The JOSE name of alg: "HS256", "RS256" or "ES256".
std::string_view jwt_algorithm_name(JwtAlgorithm alg);

// Why a token was refused: the text verify() writes to *reason, for callers that carry it.
struct JwtVerifyError {
  std::string reason;
};

class JwtCodec {
 public:
  static constexpr std::chrono::seconds kDefaultLeeway{30};

  // HMAC-SHA256 codec; throws std::invalid_argument if secret is shorter than 32 bytes
  // (RFC 7518 section 3.2: at least the hash output size).
  static JwtCodec hs256(std::string secret, std::string issuer);

  // RS256 for an RSA key (>= 2048 bits), ES256 for a P-256 key, detected from the PEM
  // (PKCS#8 or traditional); throws std::invalid_argument for anything else.
  static JwtCodec from_private_key_pem(std::string pem, std::string issuer);

  // Verify-only RS256/ES256 codec from a SubjectPublicKeyInfo PEM; sign() throws
  // std::logic_error. Throws std::invalid_argument for an unsupported key.
  static JwtCodec from_public_key_pem(std::string_view pem, std::string issuer);

  // Compact JWS of claims with header {alg, typ, kid?}; adds "iss" (the codec's issuer) and
  // "iat" (now) when absent. Tokens without "exp" are refused by verify(), so set it or
  // use the ttl overload.
  std::string sign(boost::json::object claims) const;

  // As sign(claims), also adding "exp" = iat + ttl when absent.
  std::string sign(boost::json::object claims, std::chrono::seconds ttl) const;

  // The claims if, and only if: the token has three non-empty unpadded base64url segments, the
  // header's "alg" is exactly this codec's algorithm (never "none"), no "crit" header is
  // present, the signature verifies under this codec's key, "iss" equals the issuer, "exp"
  // is present and not past (with leeway), and "nbf" and "iat", if present, are not in
  // the future (with leeway). Otherwise nullopt with a short reason in *reason. Never throws on input.
  std::optional<boost::json::object> verify(std::string_view token, std::string* reason = nullptr) const;

  // verify() as if the current time were now_unix (seconds since the epoch).
  std::optional<boost::json::object> verify_at(std::string_view token, std::int64_t now_unix,
                                               std::string* reason = nullptr) const;

  // Sets the clock-skew allowance for exp/nbf (default 30 s; clamped to [0 s, 1 year]).
  JwtCodec& set_leeway(std::chrono::seconds leeway);

  // The clock-skew allowance for exp/nbf.
  std::chrono::seconds leeway() const;

  // The pinned signing algorithm.
  JwtAlgorithm algorithm() const;

  // The issuer written into and required from tokens.
  const std::string& issuer() const;

  // RFC 7638 JWK thumbprint (base64url SHA-256) used as "kid"; empty for HS256.
  const std::string& key_id() const;

  // The public key as a JWK (kty, n/e or crv/x/y, alg, use "sig", kid) for a JWKS
  // endpoint; an empty object for HS256.
  boost::json::object public_jwk() const;

  // The public key as a SubjectPublicKeyInfo PEM; empty for HS256.
  const std::string& public_key_pem() const;

 private:
  JwtCodec() = default;

  JwtAlgorithm algorithm_ = JwtAlgorithm::HS256;
  std::string issuer_;
  std::string signing_key_;  // HMAC secret or private key PEM; empty for verify-only
  std::string verify_key_;   // HMAC secret or public key PEM
  std::string key_id_;
  boost::json::object jwk_;
  std::chrono::seconds leeway_ = kDefaultLeeway;
};

}  // namespace security
