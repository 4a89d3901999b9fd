#include "security/jwt.hpp"

// cpp-jwt is used for its signing primitives only (HMAC, RSA PKCS#1 v1.5, ECDSA with the JOSE
// r||s signature form). Token framing and claim policy are ours: its jwt::decode matches "alg"
// case-insensitively, treats a missing "exp" as valid, reads the wall clock directly and
// compares HMAC signatures with a non-constant-time ==.
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <jwt/algorithm.hpp>
#include <limits>
#include <stdexcept>

#include "openssl_handles.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"

namespace security {
namespace {

constexpr std::size_t kMaxTokenBytes = std::size_t{64} * 1024;
constexpr std::size_t kMinHmacSecretBytes = 32;  // RFC 7518 3.2: at least the hash size
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::chrono::seconds kMaxLeeway{std::chrono::hours{24 * 365}};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- keys -----------------------------------------------------------------------------------

detail::PkeyPtr read_private_key(std::string_view pem) {
  auto bio = detail::memory_bio(pem);
  detail::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    detail::clear_openssl_errors();
    throw std::invalid_argument("security: not an unencrypted PEM private key");
  }
  return key;
}

detail::PkeyPtr read_public_key(std::string_view pem) {
  auto bio = detail::memory_bio(pem);
  detail::PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    detail::clear_openssl_errors();
    throw std::invalid_argument("security: not a PEM public key");
  }
  return key;
}

bool is_p256(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) return false;
  const std::string_view name(group, length);
  return name == "prime256v1" || name == "P-256";
}

// RS256 for RSA >= 2048 bits, ES256 for P-256; anything else is refused.
JwtAlgorithm algorithm_for_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      throw std::invalid_argument("security: RSA keys for RS256 need at least 2048 bits");
    }
    return JwtAlgorithm::RS256;
  }
  if (EVP_PKEY_is_a(key, "EC") && is_p256(key)) return JwtAlgorithm::ES256;
  throw std::invalid_argument("security: JWT keys must be RSA (RS256) or EC P-256 (ES256)");
}

std::string public_key_pem_of(EVP_PKEY* key) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    detail::throw_openssl_error("PEM_write_bio_PUBKEY");
  }
  return detail::bio_contents(bio.get());
}

// Big-endian bytes of a key parameter, left-padded to `width` bytes when width > 0.
std::string bignum_param(EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) detail::throw_openssl_error(name);
  detail::BignumPtr number(raw);
  const int size = width > 0 ? width : BN_num_bytes(number.get());
  std::string out(static_cast<std::size_t>(size), '\0');
  if (BN_bn2binpad(number.get(), detail::bytes(out), size) != size) {
    detail::throw_openssl_error("BN_bn2binpad");
  }
  return out;
}

struct PublicJwk {
  boost::json::object jwk;
  std::string thumbprint;
};

// The JWK members and the RFC 7638 thumbprint over the required members in
// lexicographic order, without whitespace (all values are base64url, so no escaping).
PublicJwk describe_public_key(EVP_PKEY* key, JwtAlgorithm alg) {
  PublicJwk out;
  std::string canonical;
  if (alg == JwtAlgorithm::RS256) {
    const std::string n = base64url_encode(bignum_param(key, OSSL_PKEY_PARAM_RSA_N));
    const std::string e = base64url_encode(bignum_param(key, OSSL_PKEY_PARAM_RSA_E));
    out.jwk["kty"] = "RSA";
    out.jwk["n"] = n;
    out.jwk["e"] = e;
    canonical = R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + R"("})";
  } else {
    const int width = static_cast<int>(kP256CoordinateBytes);
    const std::string x = base64url_encode(bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_X, width));
    const std::string y = base64url_encode(bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, width));
    out.jwk["kty"] = "EC";
    out.jwk["crv"] = "P-256";
    out.jwk["x"] = x;
    out.jwk["y"] = y;
    canonical = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})";
  }
  out.thumbprint = base64url_encode(sha256(canonical));
  out.jwk["alg"] = jwt_algorithm_name(alg);
  out.jwk["use"] = "sig";
  out.jwk["kid"] = out.thumbprint;
  return out;
}

// ---- signatures (through cpp-jwt) ----------------------------------------------------------

std::string raw_signature(JwtAlgorithm alg, const std::string& key, std::string_view input) {
  jwt::sign_result_t result;
  switch (alg) {
    case JwtAlgorithm::HS256: result = jwt::HMACSign<jwt::algo::HS256>::sign(key, input); break;
    case JwtAlgorithm::RS256: result = jwt::PEMSign<jwt::algo::RS256>::sign(key, input); break;
    case JwtAlgorithm::ES256: result = jwt::PEMSign<jwt::algo::ES256>::sign(key, input); break;
  }
  if (result.second || result.first.empty()) {
    detail::clear_openssl_errors();
    throw std::runtime_error("security: JWT signing failed: " + result.second.message());
  }
  return std::move(result.first);
}

bool signature_valid(JwtAlgorithm alg, const std::string& key, std::string_view input, std::string_view signature,
                     std::string_view signature_b64) {
  try {
    jwt::verify_result_t result{false, {}};
    switch (alg) {
      case JwtAlgorithm::HS256:
        // Recompute and compare in constant time instead of cpp-jwt's ==.
        return constant_time_equal(raw_signature(alg, key, input), signature);
      case JwtAlgorithm::RS256: result = jwt::PEMSign<jwt::algo::RS256>::verify(key, input, signature_b64); break;
      case JwtAlgorithm::ES256:
        if (signature.size() != 2 * kP256CoordinateBytes) return false;
        result = jwt::PEMSign<jwt::algo::ES256>::verify(key, input, signature_b64);
        break;
    }
    detail::clear_openssl_errors();
    return result.first && !result.second;
  } catch (const std::exception&) {
    detail::clear_openssl_errors();
    return false;
  }
}

// ---- token parsing --------------------------------------------------------------------------

struct TokenParts {
  std::string_view header_b64;
  std::string_view payload_b64;
  std::string_view signature_b64;
  std::string_view signing_input;  // header_b64 '.' payload_b64
};

// Exactly three non-empty segments separated by '.', unpadded (RFC 7515 section 2), so each
// token has exactly one spelling.
std::optional<TokenParts> split_token(std::string_view token) {
  if (std::count(token.begin(), token.end(), '.') != 2) return std::nullopt;
  if (token.find('=') != std::string_view::npos) return std::nullopt;
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  TokenParts parts{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1),
                   token.substr(0, second)};
  if (parts.header_b64.empty() || parts.payload_b64.empty() || parts.signature_b64.empty()) {
    return std::nullopt;
  }
  return parts;
}

std::optional<boost::json::object> decode_json_object(std::string_view b64) {
  const auto text = base64url_decode(b64);
  if (!text) return std::nullopt;
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// A NumericDate (RFC 7519 section 2): an integer or finite number of seconds, as int64.
std::optional<std::int64_t> numeric_date(const boost::json::value& value) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(value.get_uint64(), kMax));
  if (value.is_double()) {
    const double seconds = value.get_double();
    if (!std::isfinite(seconds)) return std::nullopt;
    if (seconds >= 9.0e18) return kMax;
    if (seconds <= -9.0e18) return -kMax;
    return static_cast<std::int64_t>(std::floor(seconds));
  }
  return std::nullopt;
}

// Refusal reason, or empty when the header is acceptable for `alg`.
std::string check_header(const boost::json::object& header, JwtAlgorithm alg) {
  const auto* alg_value = header.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) return "malformed: header has no alg";
  const std::string_view name = alg_value->get_string();
  if (equals_ignoring_ascii_case(name, "none")) return "algorithm none is not accepted";
  if (name != jwt_algorithm_name(alg)) {
    return "algorithm mismatch: expected " + std::string(jwt_algorithm_name(alg));
  }
  if (header.contains("crit")) return "unsupported critical header";
  if (const auto* typ = header.if_contains("typ")) {
    if (!typ->is_string() || !equals_ignoring_ascii_case(typ->get_string(), "JWT")) {
      return "unexpected typ";
    }
  }
  return {};
}

// Refusal reason, or empty when iss, exp, nbf and iat are acceptable at `now`.
std::string check_claims(const boost::json::object& claims, const std::string& issuer, std::int64_t now,
                         std::int64_t leeway) {
  const auto* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != issuer) return "wrong issuer";

  const auto* exp_value = claims.if_contains("exp");
  if (exp_value == nullptr) return "missing exp";
  const auto exp = numeric_date(*exp_value);
  if (!exp) return "malformed: exp is not a number";
  if (*exp <= now - leeway) return "expired";

  if (const auto* nbf_value = claims.if_contains("nbf")) {
    const auto nbf = numeric_date(*nbf_value);
    if (!nbf) return "malformed: nbf is not a number";
    if (*nbf > now + leeway) return "not yet valid";
  }
  if (const auto* iat_value = claims.if_contains("iat")) {
    const auto iat = numeric_date(*iat_value);
    if (!iat) return "malformed: iat is not a number";
    // Issued in the future: a forged token or an issuer whose clock runs ahead.
    if (*iat > now + leeway) return "issued in the future";
  }
  return {};
}

}  // namespace

std::string_view jwt_algorithm_name(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::HS256: return "HS256";
    case JwtAlgorithm::RS256: return "RS256";
    case JwtAlgorithm::ES256: return "ES256";
  }
  throw std::invalid_argument("security: unknown JwtAlgorithm");
}

JwtCodec JwtCodec::hs256(std::string secret, std::string issuer) {
  if (secret.size() < kMinHmacSecretBytes) {
    throw std::invalid_argument("security: HS256 secrets need at least 32 bytes");
  }
  JwtCodec codec;
  codec.algorithm_ = JwtAlgorithm::HS256;
  codec.issuer_ = std::move(issuer);
  codec.signing_key_ = secret;
  codec.verify_key_ = std::move(secret);
  return codec;
}

JwtCodec JwtCodec::from_private_key_pem(std::string pem, std::string issuer) {
  const detail::PkeyPtr key = read_private_key(pem);
  JwtCodec codec;
  codec.algorithm_ = algorithm_for_key(key.get());
  codec.issuer_ = std::move(issuer);
  codec.signing_key_ = std::move(pem);
  codec.verify_key_ = public_key_pem_of(key.get());
  auto described = describe_public_key(key.get(), codec.algorithm_);
  codec.jwk_ = std::move(described.jwk);
  codec.key_id_ = std::move(described.thumbprint);
  return codec;
}

JwtCodec JwtCodec::from_public_key_pem(std::string_view pem, std::string issuer) {
  const detail::PkeyPtr key = read_public_key(pem);
  JwtCodec codec;
  codec.algorithm_ = algorithm_for_key(key.get());
  codec.issuer_ = std::move(issuer);
  codec.verify_key_ = public_key_pem_of(key.get());
  auto described = describe_public_key(key.get(), codec.algorithm_);
  codec.jwk_ = std::move(described.jwk);
  codec.key_id_ = std::move(described.thumbprint);
  return codec;
}

std::string JwtCodec::sign(boost::json::object claims) const {
  if (signing_key_.empty()) throw std::logic_error("security: this JwtCodec can only verify");
  if (!claims.contains("iss")) claims["iss"] = issuer_;
  if (!claims.contains("iat")) claims["iat"] = unix_now();

  boost::json::object header;
  header["alg"] = jwt_algorithm_name(algorithm_);
  header["typ"] = "JWT";
  if (!key_id_.empty()) header["kid"] = key_id_;

  std::string token = base64url_encode(boost::json::serialize(header));
  token += '.';
  token += base64url_encode(boost::json::serialize(claims));
  const std::string signature = raw_signature(algorithm_, signing_key_, token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

std::string JwtCodec::sign(boost::json::object claims, std::chrono::seconds ttl) const {
  if (!claims.contains("iat")) claims["iat"] = unix_now();
  if (!claims.contains("exp")) {
    const auto iat = numeric_date(claims["iat"]);
    if (!iat) throw std::invalid_argument("security: iat claim is not a number");
    claims["exp"] = *iat + static_cast<std::int64_t>(ttl.count());
  }
  return sign(std::move(claims));
}

std::optional<boost::json::object> JwtCodec::verify(std::string_view token, std::string* reason) const {
  return verify_at(token, unix_now(), reason);
}

std::optional<boost::json::object> JwtCodec::verify_at(std::string_view token, std::int64_t now_unix,
                                                       std::string* reason) const {
  const auto refuse = [reason](std::string why) -> std::optional<boost::json::object> {
    if (reason != nullptr) *reason = std::move(why);
    return std::nullopt;
  };
  try {
    if (token.size() > kMaxTokenBytes) return refuse("malformed: token too long");
    const auto parts = split_token(token);
    if (!parts) return refuse("malformed: expected three non-empty unpadded segments");

    const auto header = decode_json_object(parts->header_b64);
    if (!header) return refuse("malformed: header is not base64url JSON object");
    if (auto why = check_header(*header, algorithm_); !why.empty()) return refuse(why);

    const auto signature = base64url_decode(parts->signature_b64);
    if (!signature) return refuse("malformed: signature is not base64url");
    if (!signature_valid(algorithm_, verify_key_, parts->signing_input, *signature, parts->signature_b64)) {
      return refuse("invalid signature");
    }

    auto claims = decode_json_object(parts->payload_b64);
    if (!claims) return refuse("malformed: payload is not base64url JSON object");
    const std::int64_t now = std::clamp<std::int64_t>(now_unix, 0, std::int64_t{1} << 40);
    if (auto why = check_claims(*claims, issuer_, now, leeway_.count()); !why.empty()) {
      return refuse(why);
    }
    if (reason != nullptr) reason->clear();
    return claims;
  } catch (const std::exception&) {
    return refuse("malformed: token could not be processed");
  }
}

JwtCodec& JwtCodec::set_leeway(std::chrono::seconds leeway) {
  leeway_ = std::clamp(leeway, std::chrono::seconds{0}, kMaxLeeway);
  return *this;
}

std::chrono::seconds JwtCodec::leeway() const { return leeway_; }

JwtAlgorithm JwtCodec::algorithm() const { return algorithm_; }

const std::string& JwtCodec::issuer() const { return issuer_; }

const std::string& JwtCodec::key_id() const { return key_id_; }

boost::json::object JwtCodec::public_jwk() const { return jwk_; }

const std::string& JwtCodec::public_key_pem() const {
  static const std::string kNone;
  return algorithm_ == JwtAlgorithm::HS256 ? kNone : verify_key_;
}

}  // namespace security
