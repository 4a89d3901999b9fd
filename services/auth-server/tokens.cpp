#include "tokens.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "store/time.hpp"

namespace auth {

namespace {

std::string string_claim(const boost::json::object& claims, std::string_view name) {
  auto* v = claims.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) return {};
  return std::string(v->as_string());
}

}  // namespace

security::JwtCodec signing_codec(common::Service& service, const std::string& private_key_file) {
  if (private_key_file.empty()) {
    if (service.production() && !service.config().is_set("JWT_SECRET"))
      throw common::ConfigError("JWT_SECRET or JWT_PRIVATE_KEY_FILE is required when APP_ENV=production");
    return security::JwtCodec::hs256(service.signing_secret("JWT_SECRET"), kIssuer);
  }
  std::string pem = common::read_file(private_key_file);
  try {
    return security::JwtCodec::from_private_key_pem(std::move(pem), kIssuer);
  } catch (const std::invalid_argument& e) {
    throw common::ConfigError(std::string("JWT_PRIVATE_KEY_FILE: ") + e.what());
  }
}

AccessTokens::AccessTokens(security::JwtCodec codec, std::int64_t ttl_s) : codec_(std::move(codec)), ttl_s_(ttl_s) {}

AccessTokens::~AccessTokens() = default;

boost::json::object AccessTokens::jwks() const {
  boost::json::array keys;
  if (codec_.algorithm() != security::JwtAlgorithm::HS256) keys.push_back(codec_.public_jwk());
  return {{"keys", std::move(keys)}};
}

AccessToken AccessTokens::issue(const User& user, std::string_view session_id) const {
  std::int64_t now = store::unix_now();
  boost::json::object claims{{"sub", user.id},    {"sid", session_id}, {"role", user.role},
                             {"tier", user.tier}, {"iat", now},        {"exp", now + ttl_s_}};
  return {codec_.sign(std::move(claims)), now + ttl_s_};
}

Principal AccessTokens::authenticate(store::Database& db, std::string_view token) const {
  std::int64_t now = store::unix_now();
  Principal p;
  if (auto seen = verified_.get(std::string(token))) {
    if (seen->exp <= now - codec_.leeway().count())  // the codec's own expiry rule
      throw common::ApiError::unauthorized("invalid or expired access token");
    p.user_id = seen->user_id;
    p.session_id = seen->session_id;
  } else {
    auto claims = codec_.verify(token);
    if (!claims) throw common::ApiError::unauthorized("invalid or expired access token");
    p.user_id = string_claim(*claims, "sub");
    p.session_id = string_claim(*claims, "sid");
    if (p.user_id.empty() || p.session_id.empty()) throw common::ApiError::unauthorized("invalid access token");
    auto* exp = claims->if_contains("exp");
    if (exp && exp->is_int64()) verified_.put(std::string(token), {p.user_id, p.session_id, exp->as_int64()});
  }
  // From memory while nothing was committed since it was read (by this process or another),
  // so a revocation, suspension or deletion counts from the next request on.
  const std::uint64_t version = db.data_version();
  std::string key = p.session_id + '\n' + p.user_id;
  std::shared_ptr<const users::LiveSession> live = sessions_.get(key, version);
  if (!live) {
    auto row = db.read([&](store::Connection& c) { return users::live_session(c, p.session_id, p.user_id); });
    if (!row) throw common::ApiError::unauthorized("session has ended; sign in again");
    live = std::make_shared<const users::LiveSession>(*row);
    sessions_.put(std::move(key), std::move(*row), version);
  }
  if (live->expires_at <= now) throw common::ApiError::unauthorized("session has ended; sign in again");
  std::optional<User> account = live->user;
  if (account->suspended) throw common::ApiError(403, "account suspended", "account_suspended");
  p.role = account->role;
  p.tier = account->tier;
  p.account = std::move(*account);
  return p;
}

void add_auth_schemes(common::Service& service, const AccessTokens& tokens, store::Database& db) {
  auto authenticate = [&tokens, &db](common::Request& req) -> const Principal& {
    auto bearer = req.bearer_token();
    if (!bearer) throw common::ApiError::unauthorized();
    req.principal = tokens.authenticate(db, *bearer);
    const auto& p = std::any_cast<const Principal&>(req.principal);
    req.rate_key = "user:" + p.user_id;
    return p;
  };
  service.auth_scheme("user", [authenticate](common::Request& req) { authenticate(req); });
  service.auth_scheme("admin", [authenticate](common::Request& req) {
    if (authenticate(req).role != "admin") throw common::ApiError::forbidden("administrator role required");
  });
}

const Principal& principal_of(const common::Request& request) {
  const auto* p = std::any_cast<Principal>(&request.principal);
  if (!p) throw std::logic_error("route without an auth scheme reads the principal");
  return *p;
}

}  // namespace auth
