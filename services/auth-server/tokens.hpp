#pragma once
// Access tokens: JWTs (HS256, or RS256/ES256 with JWT_PRIVATE_KEY_FILE) naming a user and a
// session, and the "user" and "admin" auth schemes that accept them only while the session is
// live and the account exists.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/http.hpp"
#include "common/memo.hpp"
#include "common/service.hpp"
#include "security/jwt.hpp"
#include "store/database.hpp"
#include "users.hpp"

namespace auth {

inline constexpr const char* kIssuer = "panguard-auth";

// Who is calling: set by the auth schemes as request.principal.
struct Principal {
  std::string user_id;
  std::string session_id;
  std::string role;
  std::string tier;
  User account;  // as read when the token was checked (same snapshot as the session check)
};

struct AccessToken {
  std::string token;
  std::int64_t expires_at = 0;  // unix seconds
};

class AccessTokens {
 public:
  AccessTokens(security::JwtCodec codec, std::int64_t ttl_s);
  ~AccessTokens();

  // A token with claims iss, sub, sid, role, tier, iat, exp = iat + ttl.
  AccessToken issue(const User& user, std::string_view session_id) const;

  // The caller behind a bearer token: the signature, algorithm, issuer and expiry must verify,
  // the session must be live and the user must exist (throws ApiError 401), and the account
  // must not be suspended (ApiError 403).
  Principal authenticate(store::Database& db, std::string_view token) const;

  // The JSON Web Key Set of the verification key: {"keys": [jwk]}, or {"keys": []} with HS256
  // (a shared secret is never published).
  boost::json::object jwks() const;

 private:
  // Most requests present a token seen before (clients reuse theirs until it expires): a token
  // whose signature, algorithm and issuer verified is remembered by its exact text with its
  // subject, session and expiry, so a repeat skips the signature check. Expiry is still
  // enforced.
  struct Verified {
    std::string user_id, session_id;
    std::int64_t exp = 0;
  };
  security::JwtCodec codec_;
  std::int64_t ttl_s_;
  mutable common::Memo<Verified> verified_;
  // Live sessions with their accounts by "session\nuser", valid while the database's
  // data_version() stays the same.
  mutable common::Memo<users::LiveSession> sessions_;
};

// The signing codec: RS256/ES256 from the PEM in private_key_file (JWT_PRIVATE_KEY_FILE) when
// set (ConfigError naming it when unreadable or not an RSA >= 2048 / P-256 key), else HS256
// with JWT_SECRET.
security::JwtCodec signing_codec(common::Service& service, const std::string& private_key_file);

// Registers "user" (any signed-in account) and "admin" (role admin, else 403) on the service.
void add_auth_schemes(common::Service& service, const AccessTokens& tokens, store::Database& db);

// The principal the auth scheme stored on the request.
const Principal& principal_of(const common::Request& request);

}  // namespace auth
