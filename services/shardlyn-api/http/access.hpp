#pragma once
// The route table's guard model and the authenticators behind it. Every endpoint declares
//   auth:       Public, User (JWT only), Member (JWT or API token), Admin (platform admin JWT or
//               a root API token holding the route's permission)
//   org scope:  None, Path ({orgId} in the path) or Current (X-Organization-Id, the API token's
//               organisation, else the user's first organisation)
//   permission: a key of the catalogue the caller must hold in that organisation
// An organisation the caller does not belong to is a 404, a missing permission a 403.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "common/http.hpp"
#include "common/router.hpp"
#include "common/service.hpp"
#include "http/access_cache.hpp"
#include "orgs/organizations.hpp"
#include "orgs/permissions.hpp"
#include "security/jwt.hpp"
#include "store/database.hpp"
#include "tokens/token_uses.hpp"

namespace shardlyn {

enum class Auth { Public, User, Member, Admin };
enum class OrgScope { None, Path, Current };

// The names a route carries in common::Route::auth and ::scope (and the OpenAPI document in
// x-shardlyn-auth and x-shardlyn-org).
std::string_view auth_name(Auth auth);        // "public", "jwt", "jwt_or_api_token", "admin"
std::string_view scope_name(OrgScope scope);  // "none", "path", "current"

// Who is calling, set as request.principal by the authenticators.
struct Caller {
  std::string user_id;
  std::string email;
  bool platform_admin = false;
  std::string session_id;  // JWT callers
  std::string token_id;    // API-token callers
  bool root_token = false;
  std::string org_id;  // the organisation the route acts on (scope Path or Current)
  std::string role;    // the user's role there ("" for root tokens)
  // What the caller holds there (shared with the authentication cache; never null).
  std::shared_ptr<const PermissionSet> permissions = std::make_shared<const PermissionSet>();
  std::string ip;
  std::uint64_t generation = 0;  // API tokens: the cache generation the token was checked under
  std::int64_t expires_at = 0;   // when the credential ends (unix seconds; 0: no end)

  // The caller as the audit trail names them.
  audit::Actor actor() const { return {user_id, token_id, ip}; }
};

// A WebSocket upgrade kept for the credential its first frame brings later (the upgrade's
// request is gone by then): its path, parameters, client address, X-Organization-Id and the
// route's guard, what Access::authenticate_token checks the credential against.
struct UpgradeGuard {
  UpgradeGuard() = default;
  explicit UpgradeGuard(const common::Request& upgrade);
  common::Request request;
  common::Route route;
};

// Access tokens: HS256 JWTs with sub (user id), sid (session id) and typ "access".
struct AccessToken {
  std::string token;
  std::int64_t expires_in = 0;
};

inline constexpr std::string_view kApiTokenPrefix = "shardlyn_api_";

class Access {
 public:
  static constexpr std::int64_t kAccessTtl = 900;

  // token_key: the HMAC key API-token secrets are hashed under.
  Access(store::Database& db, std::string jwt_secret, std::string token_key, bool integration_api);

  AccessToken issue(std::string_view user_id, std::string_view session_id) const;
  // Short-lived signed tokens of another type (the MFA challenge): claims sub and typ.
  std::string sign(std::string_view type, std::string_view subject, std::int64_t ttl_s) const;
  // The subject of a valid, unexpired token of that type, or nullopt.
  std::optional<std::string> verify(std::string_view type, std::string_view token) const;
  // The same with the token's id (jti) and expiry, for tokens that may be used once.
  struct Signed {
    std::string subject;
    std::string id;
    std::int64_t expires_at = 0;
  };
  std::optional<Signed> verify_signed(std::string_view type, std::string_view token) const;

  const std::string& token_key() const { return token_key_; }

  // Registers the one authenticator, under the name of each auth kind: it applies the guard
  // the matched route declares (auth kind, organisation scope, permission); at shutdown the
  // queued API-token uses are committed.
  void guard(common::Service& service);
  // A WebSocket's credential sent in its first frame instead of at the upgrade (browsers cannot
  // set headers there): the caller the route's guard makes of `token`, as if the upgrade had
  // carried it. Throws the same ApiError (401, 403, 404) the upgrade would have answered.
  Caller authenticate_token(const UpgradeGuard& upgrade, std::string_view token) const;
  // Adds the routes to the service; an API token's use is queued before its handler runs and
  // committed in a batch (TokenUses).
  void add(common::Service& service, std::vector<common::Route> routes) const;
  // Commits the queued API-token uses: reads that show uses (token list, audit log) call it first.
  void flush_uses() const { uses_->flush(); }

  // Compares the guards declared in the OpenAPI document (x-shardlyn-auth, x-shardlyn-org,
  // x-shardlyn-permission) with those of the routes the table declared; the mismatches.
  static std::vector<std::string> check_document(const std::vector<common::Route>& routes,
                                                 std::string_view openapi_yaml);

 private:
  // What a verified access token says.
  struct Claims {
    std::string user_id;
    std::string session_id;
    std::int64_t expires_at = 0;
  };
  // A session and its user as authentication needs them; live = false when it has ended.
  struct SessionState {
    bool live = false;
    std::string user_id;
    std::int64_t expires_at = 0;
    std::string email;
    bool platform_admin = false;
    bool suspended = false;
  };
  // An API token by id: its digest, and either the caller it makes or why it is refused.
  struct TokenState {
    bool found = false;
    std::string secret_hash;
    bool revoked = false;
    std::optional<std::int64_t> expires_at;
    std::optional<common::ApiError> refusal;
    Caller caller;
  };
  // The organisation a user acts on, their role and what they hold there.
  struct OrgRole {
    std::string org_id;
    std::string role;
    std::shared_ptr<const PermissionSet> permissions;
  };
  using OrgMembership = std::optional<OrgRole>;

  void authenticate(common::Request& req, const common::Route& route) const;
  void check_guard(const Caller& caller, Auth auth, const std::string& permission) const;
  Caller from_jwt(std::string_view token) const;
  Caller from_api_token(std::string_view token) const;
  void resolve_org(common::Request& req, Caller& caller, OrgScope scope) const;
  TokenState load_token(store::Connection& db, std::string_view id) const;
  // The caller a token state makes at `now`, or the ApiError refusing it.
  static const Caller& admit(const TokenState& state, std::int64_t now);
  // Queues the API token's use (last use and an audit entry) after checking, when anything
  // changed since authentication, that the token still grants `permission`.
  void record_use(const Caller& caller, const std::string& permission) const;

  store::Database& db_;
  security::JwtCodec codec_;
  std::string token_key_;
  bool integration_api_;
  std::unique_ptr<AccessCache> cache_;
  mutable common::Memo<Claims> claims_;  // by token text; generation 0 (a signature does not change)
  mutable common::Memo<SessionState> sessions_;
  mutable common::Memo<OrgMembership> memberships_;  // by user id and wanted organisation
  mutable common::Memo<bool> organizations_;         // exists, by id
  mutable common::Memo<TokenState> tokens_;
  std::unique_ptr<TokenUses> uses_;
};

// The caller the authenticator stored on the request.
const Caller& caller_of(const common::Request& request);

}  // namespace shardlyn
