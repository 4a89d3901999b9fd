#include "http/access.hpp"

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "common/openapi.hpp"
#include "identity/sessions.hpp"
#include "identity/users.hpp"
#include "orgs/organizations.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"
#include "tokens/api_tokens.hpp"

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

namespace {

Auth auth_of(std::string_view name) {
  for (Auth a : {Auth::User, Auth::Member, Auth::Admin})
    if (auth_name(a) == name) return a;
  return Auth::Public;
}

OrgScope scope_of(std::string_view name) {
  for (OrgScope s : {OrgScope::Path, OrgScope::Current})
    if (scope_name(s) == name) return s;
  return OrgScope::None;
}

}  // namespace

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
      integration_api_(integration_api),
      cache_(std::make_unique<AccessCache>(db)),
      uses_(std::make_unique<TokenUses>(db)) {}

AccessToken Access::issue(std::string_view user_id, std::string_view session_id) const {
  boost::json::object claims{{"sub", user_id}, {"sid", session_id}, {"typ", "access"}};
  return {codec_.sign(std::move(claims), std::chrono::seconds(kAccessTtl)), kAccessTtl};
}

std::string Access::sign(std::string_view type, std::string_view subject, std::int64_t ttl_s) const {
  boost::json::object claims{{"sub", subject}, {"typ", type}, {"jti", security::random_token(12)}};
  return codec_.sign(std::move(claims), std::chrono::seconds(ttl_s));
}

std::optional<std::string> Access::verify(std::string_view type, std::string_view token) const {
  auto verified = verify_signed(type, token);
  if (!verified) return std::nullopt;
  return std::move(verified->subject);
}

std::optional<Access::Signed> Access::verify_signed(std::string_view type, std::string_view token) const {
  auto claims = codec_.verify(token);
  if (!claims || string_claim(*claims, "typ") != type) return std::nullopt;
  auto* exp = claims->if_contains("exp");
  Signed out{string_claim(*claims, "sub"), string_claim(*claims, "jti"), exp && exp->is_int64() ? exp->as_int64() : 0};
  if (out.subject.empty()) return std::nullopt;
  return out;
}

Caller Access::from_jwt(std::string_view token) const {
  std::int64_t now = store::unix_now();
  std::string key(token);
  auto claims = claims_.get(key, 0);
  if (!claims) {
    auto verified = codec_.verify(token);
    if (!verified || string_claim(*verified, "typ") != "access")
      throw common::ApiError::unauthorized("invalid or expired access token");
    auto* exp = verified->if_contains("exp");
    Claims fresh{string_claim(*verified, "sub"), string_claim(*verified, "sid"),
                 exp && exp->is_int64() ? exp->as_int64() : 0};
    if (fresh.user_id.empty() || fresh.session_id.empty()) throw common::ApiError::unauthorized("invalid access token");
    claims_.put(key, fresh, 0);
    claims = std::make_shared<const Claims>(std::move(fresh));
  } else if (claims->expires_at <= now - security::JwtCodec::kDefaultLeeway.count()) {
    throw common::ApiError::unauthorized("invalid or expired access token");
  }
  std::uint64_t generation = cache_->generation();
  auto state = sessions_.get(claims->session_id, generation);
  if (!state) {
    SessionState fresh = db_.read([&](store::Connection& db) {
      SessionState s;
      auto session = identity::sessions::live_by_id(db, claims->session_id);
      if (!session) return s;
      auto user = users::find(db, session->user_id);
      if (!user) return s;
      return SessionState{true,        session->user_id,     session->expires_at,
                          user->email, user->platform_admin, user->suspended};
    });
    sessions_.put(claims->session_id, fresh, generation);
    state = std::make_shared<const SessionState>(std::move(fresh));
  }
  if (!state->live || state->user_id != claims->user_id || state->expires_at <= now)
    throw common::ApiError::unauthorized("session has ended; sign in again");
  if (state->suspended) throw common::ApiError(403, "account suspended");
  Caller c;
  c.user_id = claims->user_id;
  c.session_id = claims->session_id;
  c.email = state->email;
  c.platform_admin = state->platform_admin;
  c.expires_at = claims->expires_at;
  return c;
}

Access::TokenState Access::load_token(store::Connection& db, std::string_view id) const {
  TokenState state;
  auto record = api_tokens::find(db, id);
  if (!record) return state;
  state.found = true;
  state.secret_hash = record->secret_hash;
  state.revoked = record->revoked_at.has_value();
  state.expires_at = record->expires_at;
  auto creator = users::find(db, record->user_id);
  if (!creator) {
    state.refusal = common::ApiError::unauthorized("invalid API token");
    return state;
  }
  if (creator->suspended) {
    state.refusal = common::ApiError(403, "account suspended");
    return state;
  }
  Caller& c = state.caller;
  c.user_id = creator->id;
  c.email = creator->email;
  c.token_id = record->id;
  if (!record->org_id) {
    // Root token: only while its creator is a platform admin.
    if (!creator->platform_admin) state.refusal = common::ApiError::unauthorized("API token no longer valid");
    c.root_token = true;
    c.permissions = std::make_shared<const PermissionSet>(record->permissions);
    return state;
  }
  auto membership = organizations::find_membership(db, *record->org_id, creator->id);
  if (!membership) {
    state.refusal = common::ApiError::unauthorized("API token no longer valid");
    return state;
  }
  c.org_id = *record->org_id;
  c.role = membership->role;
  c.permissions = std::make_shared<const PermissionSet>(
      token_permissions(record->permissions, member_permissions(membership->role, membership->overrides)));
  return state;
}

const Caller& Access::admit(const TokenState& state, std::int64_t now) {
  if (state.revoked) throw common::ApiError::unauthorized("API token revoked");
  if (state.expires_at && *state.expires_at <= now) throw common::ApiError::unauthorized("API token expired");
  if (state.refusal) throw *state.refusal;
  return state.caller;
}

Caller Access::from_api_token(std::string_view token) const {
  if (!integration_api_)
    throw common::ApiError::unauthorized("the integration API is disabled (SHARDLYN_INTEGRATION_API=false)");
  auto parts = api_tokens::parse(token);
  if (!parts) throw common::ApiError::unauthorized("malformed API token");
  std::uint64_t generation = cache_->generation();
  auto state = tokens_.get(parts->id, generation);
  if (!state) {
    TokenState fresh = db_.read([&](store::Connection& db) { return load_token(db, parts->id); });
    if (fresh.found) tokens_.put(parts->id, fresh, generation);
    state = std::make_shared<const TokenState>(std::move(fresh));
  }
  if (!state->found ||
      !security::constant_time_equal(security::hmac_sha256_hex(token_key_, parts->secret), state->secret_hash))
    throw common::ApiError::unauthorized("invalid API token");
  Caller c = admit(*state, store::unix_now());
  c.generation = generation;
  c.expires_at = state->expires_at.value_or(0);
  return c;
}

void Access::record_use(const Caller& caller, const std::string& permission) const {
  std::int64_t now = store::unix_now();
  // When anything authentication reads has changed since the request was authenticated, the
  // token is checked again, so a revocation committed in between refuses it.
  if (cache_->generation() != caller.generation) {
    TokenState state = db_.read([&](store::Connection& db) { return load_token(db, caller.token_id); });
    if (!state.found) throw common::ApiError::unauthorized("invalid API token");
    const Caller& now_caller = admit(state, now);
    if (!permission.empty() && !now_caller.permissions->count(permission))
      throw common::ApiError::forbidden("missing permission " + permission);
  }
  uses_->add({caller.token_id, caller.actor(), caller.org_id, now});
}

void Access::resolve_org(common::Request& req, Caller& c, OrgScope scope) const {
  std::string wanted;
  if (scope == OrgScope::Path) {
    wanted = std::string(req.param("orgId"));
  } else if (auto header = req.headers.get("X-Organization-Id")) {
    wanted = std::string(*header);
  }
  std::uint64_t generation = cache_->generation();
  if (!c.token_id.empty()) {
    if (c.root_token) {
      if (wanted.empty())
        throw common::ApiError::bad_request("root API tokens name the organization in X-Organization-Id");
      auto exists = organizations_.get(wanted, generation);
      if (!exists) {
        bool fresh = db_.read([&](store::Connection& db) { return organizations::exists(db, wanted); });
        organizations_.put(wanted, fresh, generation);
        exists = std::make_shared<const bool>(fresh);
      }
      if (!*exists) throw no_organization();
      c.org_id = wanted;
    } else if (!wanted.empty() && wanted != c.org_id) {
      throw no_organization();
    }
    return;
  }
  std::string key = c.user_id + '/' + wanted;
  auto membership = memberships_.get(key, generation);
  if (!membership) {
    OrgMembership fresh = db_.read([&](store::Connection& db) -> OrgMembership {
      std::string org = wanted;
      if (org.empty()) {
        auto first = organizations::first_of_user(db, c.user_id);
        if (!first) return std::nullopt;
        org = *first;
      }
      auto m = organizations::find_membership(db, org, c.user_id);
      if (!m) return std::nullopt;
      return OrgRole{org, m->role, std::make_shared<const PermissionSet>(member_permissions(m->role, m->overrides))};
    });
    memberships_.put(key, fresh, generation);
    membership = std::make_shared<const OrgMembership>(std::move(fresh));
  }
  if (!*membership) throw no_organization();
  c.org_id = (*membership)->org_id;
  c.role = (*membership)->role;
  c.permissions = (*membership)->permissions;
}

void Access::check_guard(const Caller& c, Auth auth, const std::string& permission) const {
  bool api_token = !c.token_id.empty();
  if (api_token && auth == Auth::User)
    throw common::ApiError::forbidden("API tokens cannot be used here; sign in as a user");
  if (auth == Auth::Admin) {
    if (api_token ? !c.root_token : !c.platform_admin) throw common::ApiError::forbidden("platform admin required");
    if (api_token && !permission.empty() && !c.permissions->count(permission))
      throw common::ApiError::forbidden("API token lacks permission " + permission);
    return;
  }
  if (!permission.empty() && !c.permissions->count(permission))
    throw common::ApiError::forbidden("missing permission " + permission);
}

void Access::authenticate(common::Request& req, const common::Route& route) const {
  Auth auth = auth_of(route.auth);
  OrgScope scope = scope_of(route.scope);
  const std::string& permission = route.permission;
  auto bearer = req.bearer_token();
  // A WebSocket upgrade without credentials: its handler authenticates the first frame. One
  // carrying a credential this route does not take (an agent's) is refused like any request.
  if (route.websocket.open && req.headers.has("Sec-WebSocket-Key") && !req.headers.has("Authorization") &&
      !req.headers.has("X-Agent-Token"))
    return;
  if (!bearer || bearer->empty()) throw common::ApiError::unauthorized();
  bool api_token = bearer->starts_with(kApiTokenPrefix);
  Caller c = api_token ? from_api_token(*bearer) : from_jwt(*bearer);
  c.ip = req.client_ip;
  req.rate_key = api_token ? "token:" + c.token_id : "user:" + c.user_id;
  try {
    if (api_token && auth == Auth::User) check_guard(c, auth, permission);
    if (scope != OrgScope::None && auth != Auth::Admin) resolve_org(req, c, scope);
    check_guard(c, auth, permission);
  } catch (const common::ApiError&) {
    // A valid API token's use is audited even when the route refuses it.
    if (api_token) record_use(c, "");
    throw;
  }
  // The use is queued; only when the queue is full does the request commit it, off the I/O thread.
  if (api_token && uses_->full()) req.offload = true;
  req.principal = std::move(c);
}

UpgradeGuard::UpgradeGuard(const common::Request& upgrade) {
  request.method = upgrade.method;
  request.path = upgrade.path;
  request.params = upgrade.params;
  request.client_ip = upgrade.client_ip;
  if (auto org = upgrade.headers.get("X-Organization-Id")) request.headers.add("X-Organization-Id", std::string(*org));
  route = {.method = upgrade.route->method, .path = upgrade.route->path, .auth = upgrade.route->auth,
           .scope = upgrade.route->scope, .permission = upgrade.route->permission};
}

Caller Access::authenticate_token(const UpgradeGuard& upgrade, std::string_view token) const {
  common::Request req = upgrade.request;
  req.headers.add("Authorization", "Bearer " + std::string(token));
  authenticate(req, upgrade.route);
  Caller c = caller_of(req);
  if (!c.token_id.empty()) record_use(c, upgrade.route.permission);
  return c;
}

void Access::guard(common::Service& service) {
  service.on_shutdown([this] { uses_->stop(); });  // commits the queued uses
  for (Auth kind : {Auth::User, Auth::Member, Auth::Admin})
    service.auth_scheme(std::string(auth_name(kind)),
                        [this](common::Request& req, const common::Route& route) { authenticate(req, route); });
}

void Access::add(common::Service& service, std::vector<common::Route> routes) const {
  for (auto& route : routes) {
    // Every route of the table names its scope, so the document check can tell them from
    // libcommon's own routes (health, metrics, documentation).
    if (route.scope.empty()) route.scope = scope_name(OrgScope::None);
    if (route.auth != auth_name(Auth::Public) && route.websocket.open) {
      // An upgrade that carried its credential records its use (a first frame's: authenticate_token).
      route.websocket.open = [this, open = std::move(route.websocket.open), permission = route.permission](common::Request& req) {
        if (const auto* c = std::any_cast<Caller>(&req.principal); c && !c->token_id.empty()) record_use(*c, permission);
        return open(req);
      };
    } else if (route.auth != auth_name(Auth::Public) && route.async_handler) {
      route.async_handler = [this, handler = std::move(route.async_handler), permission = route.permission](
                                common::Request& req, common::Reply reply) {
        if (const auto& c = caller_of(req); !c.token_id.empty()) record_use(c, permission);
        handler(req, std::move(reply));
      };
    } else if (route.auth != auth_name(Auth::Public)) {
      route.handler = [this, handler = std::move(route.handler), permission = route.permission](common::Request& req) {
        if (const auto& c = caller_of(req); !c.token_id.empty()) record_use(c, permission);
        return handler(req);
      };
    }
    service.add(std::move(route));
  }
}

std::vector<std::string> Access::check_document(const std::vector<common::Route>& routes,
                                                std::string_view openapi_yaml) {
  std::vector<std::string> problems;
  auto doc = common::yaml_to_json(openapi_yaml);
  const auto* paths = doc.is_object() ? doc.as_object().if_contains("paths") : nullptr;
  if (!paths || !paths->is_object()) return {"the OpenAPI document has no paths"};
  auto text = [](const boost::json::object& op, std::string_view key) -> std::string {
    auto* v = op.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  for (const auto& r : routes) {
    if (r.scope.empty()) continue;  // libcommon's standard routes carry no guard of ours
    const auto* item = paths->as_object().if_contains(r.path);
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* op = item && item->is_object() ? item->as_object().if_contains(method) : nullptr;
    if (!op || !op->is_object()) continue;  // the route check reports undocumented routes
    const auto& o = op->as_object();
    std::string where = r.method + " " + r.path;
    if (text(o, "x-shardlyn-auth") != r.auth) problems.push_back(where + ": x-shardlyn-auth should be " + r.auth);
    if (text(o, "x-shardlyn-org") != r.scope) problems.push_back(where + ": x-shardlyn-org should be " + r.scope);
    if (text(o, "x-shardlyn-permission") != r.permission)
      problems.push_back(where + ": x-shardlyn-permission should be '" + r.permission + "'");
    if (!r.permission.empty() && !is_permission(r.permission))
      problems.push_back(where + ": permission " + r.permission + " is not in the catalogue");
  }
  return problems;
}

const Caller& caller_of(const common::Request& request) {
  const auto* c = std::any_cast<Caller>(&request.principal);
  if (!c) throw std::logic_error("a public route reads the caller");
  return *c;
}

}  // namespace shardlyn
