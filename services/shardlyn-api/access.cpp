#include "access.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api_tokens.hpp"
#include "audit.hpp"
#include "common/error.hpp"
#include "common/openapi.hpp"
#include "identity/sessions.hpp"
#include "organizations.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"
#include "users.hpp"

namespace shardlyn {

namespace {

constexpr const char* kIssuer = "shardlyn";

std::string string_claim(const boost::json::object& claims, std::string_view name) {
  auto* v = claims.if_contains(name);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

common::ApiError no_organization() { return common::ApiError::not_found("organization not found"); }

}  // namespace

std::string_view auth_name(Auth auth) {
  switch (auth) {
    case Auth::Public: return "public";
    case Auth::User: return "jwt";
    case Auth::Member: return "jwt_or_api_token";
    case Auth::Admin: return "admin";
  }
  return "public";
}

std::string_view scope_name(OrgScope scope) {
  switch (scope) {
    case OrgScope::None: return "none";
    case OrgScope::Path: return "path";
    case OrgScope::Current: return "current";
  }
  return "none";
}

Access::Access(store::Database& db, std::string jwt_secret, std::string token_key, bool integration_api)
    : db_(db),
      codec_(security::JwtCodec::hs256(std::move(jwt_secret), kIssuer)),
      token_key_(std::move(token_key)),
      integration_api_(integration_api) {}

AccessToken Access::issue(std::string_view user_id, std::string_view session_id) const {
  boost::json::object claims{{"sub", user_id}, {"sid", session_id}, {"typ", "access"}};
  return {codec_.sign(std::move(claims), std::chrono::seconds(kAccessTtl)), kAccessTtl};
}

std::string Access::sign(std::string_view type, std::string_view subject, std::int64_t ttl_s) const {
  boost::json::object claims{{"sub", subject}, {"typ", type}, {"jti", security::random_token(12)}};
  return codec_.sign(std::move(claims), std::chrono::seconds(ttl_s));
}

std::optional<std::string> Access::verify(std::string_view type, std::string_view token) const {
  auto claims = codec_.verify(token);
  if (!claims || string_claim(*claims, "typ") != type) return std::nullopt;
  auto sub = string_claim(*claims, "sub");
  if (sub.empty()) return std::nullopt;
  return sub;
}

Caller Access::from_jwt(std::string_view token) const {
  auto claims = codec_.verify(token);
  if (!claims || string_claim(*claims, "typ") != "access")
    throw common::ApiError::unauthorized("invalid or expired access token");
  Caller c;
  c.user_id = string_claim(*claims, "sub");
  c.session_id = string_claim(*claims, "sid");
  if (c.user_id.empty() || c.session_id.empty()) throw common::ApiError::unauthorized("invalid access token");
  std::optional<User> user;
  bool live = db_.read([&](store::Connection& db) {
    if (!identity::sessions::live(db, c.session_id, c.user_id)) return false;
    user = users::find(db, c.user_id);
    return true;
  });
  if (!live || !user) throw common::ApiError::unauthorized("session has ended; sign in again");
  if (user->suspended) throw common::ApiError(403, "account suspended");
  c.email = user->email;
  c.platform_admin = user->platform_admin;
  return c;
}

Caller Access::from_api_token(std::string_view token, std::string_view ip) const {
  if (!integration_api_)
    throw common::ApiError::unauthorized("the integration API is disabled (SHARDLYN_INTEGRATION_API=false)");
  auto parts = api_tokens::parse(token);
  if (!parts) throw common::ApiError::unauthorized("malformed API token");
  std::int64_t now = store::unix_now();
  // Checking and recording the use happen in one transaction, so every use is audited.
  return db_.write([&](store::Connection& db) {
    auto record = api_tokens::find(db, parts->id);
    if (!record ||
        !security::constant_time_equal(security::hmac_sha256_hex(token_key_, parts->secret), record->secret_hash))
      throw common::ApiError::unauthorized("invalid API token");
    if (record->revoked_at) throw common::ApiError::unauthorized("API token revoked");
    if (record->expires_at && *record->expires_at <= now) throw common::ApiError::unauthorized("API token expired");
    auto creator = users::find(db, record->user_id);
    if (!creator) throw common::ApiError::unauthorized("invalid API token");
    if (creator->suspended) throw common::ApiError(403, "account suspended");
    Caller c;
    c.user_id = creator->id;
    c.email = creator->email;
    c.token_id = record->id;
    c.ip = std::string(ip);
    if (!record->org_id) {
      // Root token: only while its creator is a platform admin.
      if (!creator->platform_admin) throw common::ApiError::unauthorized("API token no longer valid");
      c.root_token = true;
      c.permissions = record->permissions;
    } else {
      auto membership = organizations::find_membership(db, *record->org_id, creator->id);
      if (!membership) throw common::ApiError::unauthorized("API token no longer valid");
      c.org_id = *record->org_id;
      c.role = membership->role;
      c.permissions =
          token_permissions(record->permissions, member_permissions(membership->role, membership->overrides));
    }
    api_tokens::touch(db, record->id, now, ip);
    audit::record(db, "api_token.used", {c.user_id, c.token_id, c.ip}, c.org_id);
    return c;
  });
}

void Access::resolve_org(common::Request& req, Caller& c, OrgScope scope) const {
  std::string wanted;
  if (scope == OrgScope::Path) {
    wanted = std::string(req.param("orgId"));
  } else if (auto header = req.headers.get("X-Organization-Id")) {
    wanted = std::string(*header);
  }
  if (!c.token_id.empty()) {
    if (c.root_token) {
      if (wanted.empty())
        throw common::ApiError::bad_request("root API tokens name the organization in X-Organization-Id");
      bool exists = db_.read([&](store::Connection& db) { return organizations::exists(db, wanted); });
      if (!exists) throw no_organization();
      c.org_id = wanted;
    } else if (!wanted.empty() && wanted != c.org_id) {
      throw no_organization();
    }
    return;
  }
  auto membership = db_.read([&](store::Connection& db) -> std::optional<std::pair<std::string, Membership>> {
    std::string org = wanted;
    if (org.empty()) {
      auto first = organizations::first_of_user(db, c.user_id);
      if (!first) return std::nullopt;
      org = *first;
    }
    auto m = organizations::find_membership(db, org, c.user_id);
    if (!m) return std::nullopt;
    return std::make_pair(org, std::move(*m));
  });
  if (!membership) throw no_organization();
  c.org_id = membership->first;
  c.role = membership->second.role;
  c.permissions = member_permissions(c.role, membership->second.overrides);
}

void Access::authenticate(common::Request& req, Auth auth, OrgScope scope, const std::string& permission) const {
  auto bearer = req.bearer_token();
  if (!bearer || bearer->empty()) throw common::ApiError::unauthorized();
  bool api_token = bearer->starts_with(kApiTokenPrefix);
  Caller c = api_token ? from_api_token(*bearer, req.client_ip) : from_jwt(*bearer);
  c.ip = req.client_ip;
  req.rate_key = api_token ? "token:" + c.token_id : "user:" + c.user_id;
  if (api_token && auth == Auth::User)
    throw common::ApiError::forbidden("API tokens cannot be used here; sign in as a user");
  if (auth == Auth::Admin) {
    if (api_token ? !c.root_token : !c.platform_admin) throw common::ApiError::forbidden("platform admin required");
    if (api_token && !permission.empty() && !c.permissions.count(permission))
      throw common::ApiError::forbidden("API token lacks permission " + permission);
    req.principal = std::move(c);
    return;
  }
  if (scope != OrgScope::None) resolve_org(req, c, scope);
  if (!permission.empty() && !c.permissions.count(permission))
    throw common::ApiError::forbidden("missing permission " + permission);
  req.principal = std::move(c);
}

void Access::add(common::Service& service, std::vector<Endpoint> endpoints) {
  for (auto& e : endpoints) {
    common::Route route{.method = e.method,
                        .path = e.path,
                        .permission = e.permission,
                        .limit = e.limit,
                        .handler = std::move(e.handler),
                        .body_limit = e.body_limit,
                        .offload = e.offload};
    if (e.auth != Auth::Public) {
      route.auth = fmt::format("{}:{}:{}", auth_name(e.auth), scope_name(e.org), e.permission);
      if (registered_.insert(route.auth).second) {
        service.auth_scheme(route.auth, [this, auth = e.auth, scope = e.org, permission = e.permission](
                                            common::Request& req) { authenticate(req, auth, scope, permission); });
      }
    }
    service.add(std::move(route));
    e.handler = nullptr;
    table_.push_back(std::move(e));
  }
}

std::vector<std::string> Access::check_document(std::string_view openapi_yaml) const {
  std::vector<std::string> problems;
  auto doc = common::yaml_to_json(openapi_yaml);
  const auto* paths = doc.is_object() ? doc.as_object().if_contains("paths") : nullptr;
  if (!paths || !paths->is_object()) return {"the OpenAPI document has no paths"};
  auto text = [](const boost::json::object& op, std::string_view key) -> std::string {
    auto* v = op.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  for (const auto& e : table_) {
    const auto* item = paths->as_object().if_contains(e.path);
    std::string method = e.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* op = item && item->is_object() ? item->as_object().if_contains(method) : nullptr;
    if (!op || !op->is_object()) continue;  // the route check reports undocumented routes
    const auto& o = op->as_object();
    std::string where = e.method + " " + e.path;
    if (text(o, "x-shardlyn-auth") != auth_name(e.auth))
      problems.push_back(where + ": x-shardlyn-auth should be " + std::string(auth_name(e.auth)));
    if (text(o, "x-shardlyn-org") != scope_name(e.org))
      problems.push_back(where + ": x-shardlyn-org should be " + std::string(scope_name(e.org)));
    if (text(o, "x-shardlyn-permission") != e.permission)
      problems.push_back(where + ": x-shardlyn-permission should be '" + e.permission + "'");
    if (!e.permission.empty() && !is_permission(e.permission))
      problems.push_back(where + ": permission " + e.permission + " is not in the catalogue");
  }
  return problems;
}

const Caller& caller_of(const common::Request& request) {
  const auto* c = std::any_cast<Caller>(&request.principal);
  if (!c) throw std::logic_error("a public route reads the caller");
  return *c;
}

}  // namespace shardlyn
