// Auth Endpoints and MFA Endpoints.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"
#include "identity/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

common::Response tokens(const SignIn& s) {
  return common::Response::json(json::object{{"access_token", s.access.token},
                                             {"refresh_token", s.refresh_token},
                                             {"expires_in", s.access.expires_in},
                                             {"token_type", "Bearer"}});
}

// A password login, a GitHub sign-in and a confirmed link end the same way: tokens, or the TOTP
// challenge to complete at /v1/auth/mfa/challenge.
common::Response signed_in(const LoginResult& result, std::int64_t challenge_ttl) {
  if (result.tokens) return tokens(*result.tokens);
  return common::Response::json(
      json::object{{"mfa_required", true}, {"challenge_token", result.challenge_token}, {"expires_in", challenge_ttl}});
}

// The value of one cookie of the request ("" when absent).
std::string cookie(const common::Request& req, std::string_view name) {
  auto header = req.headers.get("Cookie");
  if (!header) return {};
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

common::Response login(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  auto email = fields::email(body, "email");
  auto password = fields::password(body, "password");
  return signed_in(a.accounts.login(email, password, anonymous(req), user_agent(req)), a.accounts.challenge_ttl());
}

// The body of register and bootstrap: the name defaults to the address's local part.
struct NewAccount {
  std::string email, password, name;
};
NewAccount new_account(const json::object& body) {
  auto email = fields::email(body, "email");
  auto password = fields::new_password(body, "password");
  auto name = fields::optional_name(body, "name").value_or(email.substr(0, email.find('@')));
  return {email, password, name};
}

common::Response register_account(AuthArea& a, common::Request& req) {
  auto n = new_account(req.json_object());
  return common::Response::json(user_json(a.accounts.register_account(n.email, n.password, n.name, anonymous(req))),
                                201);
}

common::Response refresh(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  return tokens(a.accounts.refresh(fields::token(body, "refresh_token"), anonymous(req)));
}

common::Response forgot_password(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  a.accounts.forgot_password(fields::email(body, "email"), anonymous(req));
  return common::Response::json(
      json::object{{"message", "If an account uses this address, a reset link has been mailed to it."}}, 202);
}

common::Response reset_password(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  auto token = fields::token(body, "token");
  auto password = fields::new_password(body, "new_password");
  a.accounts.reset_password(token, password, anonymous(req));
  return common::Response::json(json::object{{"message", "password changed; every session has ended"}});
}

common::Response github_start(AuthArea& a, common::Request& req) {
  auto redirect = a.github.start();
  auto res = common::Response::empty(302);
  res.headers.add("Location", redirect.location);
  res.headers.add("Set-Cookie", std::string(GitHub::kCookie) + "=" + redirect.nonce +
                                    "; Path=/v1/auth/github; Max-Age=600; HttpOnly; SameSite=Lax" +
                                    (req.tls ? "; Secure" : ""));
  return res;
}

common::Response github_callback(AuthArea& a, common::Request& req) {
  if (auto error = req.query_param("error"))
    throw common::ApiError::unauthorized("GitHub sign-in was not granted: " + error->substr(0, 100));
  auto code = req.query_param("code");
  auto state = req.query_param("state");
  if (!code || code->empty() || code->size() > 512)
    throw common::ApiError::validation("query parameter 'code' is required");
  if (!state || state->empty() || state->size() > 2048)
    throw common::ApiError::validation("query parameter 'state' is required");
  auto outcome = a.github.finish(*code, *state, cookie(req, GitHub::kCookie), anonymous(req), user_agent(req));
  auto res =
      outcome.link_token.empty()
          ? signed_in(outcome.login, a.accounts.challenge_ttl())
          : common::Response::json(json::object{
                {"link_required", true}, {"link_token", outcome.link_token}, {"expires_in", a.accounts.link_ttl()}});
  res.headers.add("Set-Cookie", std::string(GitHub::kCookie) + "=; Path=/v1/auth/github; Max-Age=0");
  return res;
}

common::Response bootstrap_status(AuthArea& a, common::Request&) {
  return common::Response::json(json::object{{"needs_bootstrap", a.accounts.bootstrap_needed()}});
}

common::Response bootstrap(AuthArea& a, common::Request& req) {
  auto n = new_account(req.json_object());
  return common::Response::json(user_json(a.accounts.bootstrap(n.email, n.password, n.name, anonymous(req))), 201);
}

common::Response logout(AuthArea& a, common::Request& req) {
  a.accounts.logout(caller_of(req));
  return common::Response::empty(204);
}

common::Response verify_email(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  a.accounts.verify_email(fields::token(body, "token"), anonymous(req));
  return common::Response::json(json::object{{"email_verified", true}});
}

common::Response resend_verification(AuthArea& a, common::Request& req) {
  a.accounts.resend_verification(caller_of(req));
  return common::Response::json(json::object{{"message", "a new verification link has been mailed"}}, 202);
}

common::Response confirm_github_link(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  auto link = fields::token(body, "link_token");
  auto password = fields::password(body, "password");
  return signed_in(a.accounts.confirm_github_link(link, password, anonymous(req), user_agent(req)),
                   a.accounts.challenge_ttl());
}

common::Response mfa_status(AuthArea& a, common::Request& req) {
  auto s = a.accounts.mfa_status(caller_of(req));
  return common::Response::json(
      json::object{{"enabled", s.enabled}, {"backup_codes_remaining", s.backup_codes_remaining}});
}

common::Response mfa_enroll(AuthArea& a, common::Request& req) {
  auto e = a.accounts.mfa_enroll(caller_of(req));
  return common::Response::json(json::object{
      {"secret", e.secret}, {"otpauth_uri", e.otpauth_uri}, {"backup_codes", json::value_from(e.backup_codes)}});
}

common::Response mfa_verify(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  a.accounts.mfa_verify(caller_of(req), fields::code(body, "code"));
  return common::Response::json(json::object{{"enabled", true}});
}

common::Response mfa_disable(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  a.accounts.mfa_disable(caller_of(req), fields::code(body, "code"));
  return common::Response::json(json::object{{"enabled", false}});
}

common::Response mfa_challenge(AuthArea& a, common::Request& req) {
  auto body = req.json_object();
  auto challenge = fields::token(body, "challenge_token");
  auto code = fields::code(body, "code");
  return tokens(a.accounts.complete_challenge(challenge, code, anonymous(req), user_agent(req)));
}

}  // namespace

Routes auth_routes(AuthArea& area) {
  const Guard visitor{};
  const Guard user{Auth::User, OrgScope::None};
  auto on = [&area](common::Response (*handler)(AuthArea&, common::Request&)) { return bind(area, handler); };
  const RouteOptions sign_in{.limit = "login", .offload = true};  // password hashing off the I/O threads
  auto with_fields = [](RouteOptions o, std::vector<std::string> fields) {
    o.fields = std::move(fields);
    return o;
  };
  return join({
      group("/v1/auth", visitor,
            {
                post("/login", "", on(login), with_fields(sign_in, {"email", "password"})),
                post("/register", "", on(register_account), with_fields(sign_in, {"email", "name", "password"})),
                post("/refresh", "", on(refresh), {.limit = "login", .fields = {"refresh_token"}}),
                post("/forgot-password", "", on(forgot_password), {.limit = "login", .fields = {"email"}}),
                post("/reset-password", "", on(reset_password), with_fields(sign_in, {"new_password", "token"})),
                get("/github", "", on(github_start)),
                get("/github/callback", "", on(github_callback),
                    {.limit = "login", .query = {"code", "error", "state"}, .offload = true}),
                get("/bootstrap/status", "", on(bootstrap_status)),
                post("/bootstrap", "", on(bootstrap), with_fields(sign_in, {"email", "name", "password"})),
            }),
      group("/v1/auth", user,
            {
                post("/logout", "", on(logout)),
                post("/verify-email/resend", "", on(resend_verification), {.limit = "login"}),
            }),
      group("/v1/auth", visitor,
            {
                post("/verify-email", "", on(verify_email), {.limit = "login", .fields = {"token"}}),
                post("/github/link", "", on(confirm_github_link), with_fields(sign_in, {"link_token", "password"})),
            }),
      group("/v1/auth/mfa", user,
            {
                get("/status", "", on(mfa_status)),
                post("/enroll", "", on(mfa_enroll), {.limit = "mfa"}),
                post("/verify", "", on(mfa_verify), {.limit = "mfa", .fields = {"code"}}),
                post("/disable", "", on(mfa_disable), {.limit = "mfa", .fields = {"code"}}),
            }),
      group("/v1/auth/mfa", visitor,
            {
                post("/challenge", "", on(mfa_challenge), {.limit = "mfa", .fields = {"challenge_token", "code"}}),
            }),
  });
}

}  // namespace shardlyn
