// Auth Endpoints and MFA Endpoints.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
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

}  // namespace

std::vector<common::Route> auth_routes(Accounts& accounts, GitHub& github) {
  Accounts* a = &accounts;
  GitHub* gh = &github;
  return {
      {.method = "POST",
       .path = "/v1/auth/login",
       .limit = "login",
       .fields = {"email", "password"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto email = fields::email(body, "email");
             auto password = fields::password(body, "password");
             return signed_in(a->login(email, password, anonymous(req), user_agent(req)), a->challenge_ttl());
           },
       .offload = true},
      {.method = "POST",
       .path = "/v1/auth/register",
       .limit = "login",
       .fields = {"email", "name", "password"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto email = fields::email(body, "email");
             auto password = fields::new_password(body, "password");
             auto name = fields::optional_name(body, "name").value_or(email.substr(0, email.find('@')));
             return common::Response::json(user_json(a->register_account(email, password, name, anonymous(req))), 201);
           },
       .offload = true},
      {.method = "POST",
       .path = "/v1/auth/verify-email",
       .limit = "login",
       .fields = {"token"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             a->verify_email(fields::token(body, "token"), anonymous(req));
             return common::Response::json(json::object{{"email_verified", true}});
           }},
      {.method = "POST",
       .path = "/v1/auth/verify-email/resend",
       .auth = "jwt",
       .limit = "login",
       .handler =
           [a](common::Request& req) {
             a->resend_verification(caller_of(req));
             return common::Response::json(json::object{{"message", "a new verification link has been mailed"}}, 202);
           }},
      {.method = "POST",
       .path = "/v1/auth/refresh",
       .limit = "login",
       .fields = {"refresh_token"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             return tokens(a->refresh(fields::token(body, "refresh_token"), anonymous(req)));
           }},
      {.method = "POST",
       .path = "/v1/auth/logout",
       .auth = "jwt",
       .handler =
           [a](common::Request& req) {
             a->logout(caller_of(req));
             return common::Response::empty(204);
           }},
      {.method = "POST",
       .path = "/v1/auth/forgot-password",
       .limit = "login",
       .fields = {"email"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             a->forgot_password(fields::email(body, "email"), anonymous(req));
             return common::Response::json(
                 json::object{{"message", "If an account uses this address, a reset link has been mailed to it."}},
                 202);
           }},
      {.method = "POST",
       .path = "/v1/auth/reset-password",
       .limit = "login",
       .fields = {"new_password", "token"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto token = fields::token(body, "token");
             auto password = fields::new_password(body, "new_password");
             a->reset_password(token, password, anonymous(req));
             return common::Response::json(json::object{{"message", "password changed; every session has ended"}});
           },
       .offload = true},
      {.method = "GET",
       .path = "/v1/auth/github",
       .handler =
           [gh](common::Request& req) {
             auto redirect = gh->start();
             auto res = common::Response::empty(302);
             res.headers.add("Location", redirect.location);
             res.headers.add("Set-Cookie", std::string(GitHub::kCookie) + "=" + redirect.nonce +
                                               "; Path=/v1/auth/github; Max-Age=600; HttpOnly; SameSite=Lax" +
                                               (req.tls ? "; Secure" : ""));
             return res;
           }},
      {.method = "GET",
       .path = "/v1/auth/github/callback",
       .limit = "login",
       .query = {"code", "error", "state"},
       .handler =
           [a, gh](common::Request& req) {
             if (auto error = req.query_param("error"))
               throw common::ApiError::unauthorized("GitHub sign-in was not granted: " + error->substr(0, 100));
             auto code = req.query_param("code");
             auto state = req.query_param("state");
             if (!code || code->empty() || code->size() > 512)
               throw common::ApiError::validation("query parameter 'code' is required");
             if (!state || state->empty() || state->size() > 2048)
               throw common::ApiError::validation("query parameter 'state' is required");
             auto outcome = gh->finish(*code, *state, cookie(req, GitHub::kCookie), anonymous(req), user_agent(req));
             auto res =
                 outcome.link_token.empty()
                     ? signed_in(outcome.login, a->challenge_ttl())
                     : common::Response::json(json::object{
                           {"link_required", true}, {"link_token", outcome.link_token}, {"expires_in", a->link_ttl()}});
             res.headers.add("Set-Cookie", std::string(GitHub::kCookie) + "=; Path=/v1/auth/github; Max-Age=0");
             return res;
           },
       .offload = true},
      {.method = "POST",
       .path = "/v1/auth/github/link",
       .limit = "login",
       .fields = {"link_token", "password"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto link = fields::token(body, "link_token");
             auto password = fields::password(body, "password");
             return signed_in(a->confirm_github_link(link, password, anonymous(req), user_agent(req)),
                              a->challenge_ttl());
           },
       .offload = true},
      {.method = "GET",
       .path = "/v1/auth/bootstrap/status",
       .handler =
           [a](common::Request&) {
             return common::Response::json(json::object{{"needs_bootstrap", a->bootstrap_needed()}});
           }},
      {.method = "POST",
       .path = "/v1/auth/bootstrap",
       .limit = "login",
       .fields = {"email", "name", "password"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto email = fields::email(body, "email");
             auto password = fields::new_password(body, "password");
             auto name = fields::optional_name(body, "name").value_or(email.substr(0, email.find('@')));
             return common::Response::json(user_json(a->bootstrap(email, password, name, anonymous(req))), 201);
           },
       .offload = true},
      {.method = "GET",
       .path = "/v1/auth/mfa/status",
       .auth = "jwt",
       .handler =
           [a](common::Request& req) {
             auto s = a->mfa_status(caller_of(req));
             return common::Response::json(
                 json::object{{"enabled", s.enabled}, {"backup_codes_remaining", s.backup_codes_remaining}});
           }},
      {.method = "POST",
       .path = "/v1/auth/mfa/enroll",
       .auth = "jwt",
       .limit = "mfa",
       .handler =
           [a](common::Request& req) {
             auto e = a->mfa_enroll(caller_of(req));
             json::array codes;
             for (const auto& c : e.backup_codes) codes.emplace_back(c);
             return common::Response::json(json::object{
                 {"secret", e.secret}, {"otpauth_uri", e.otpauth_uri}, {"backup_codes", std::move(codes)}});
           }},
      {.method = "POST",
       .path = "/v1/auth/mfa/verify",
       .auth = "jwt",
       .limit = "mfa",
       .fields = {"code"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             a->mfa_verify(caller_of(req), fields::code(body, "code"));
             return common::Response::json(json::object{{"enabled", true}});
           }},
      {.method = "POST",
       .path = "/v1/auth/mfa/disable",
       .auth = "jwt",
       .limit = "mfa",
       .fields = {"code"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             a->mfa_disable(caller_of(req), fields::code(body, "code"));
             return common::Response::json(json::object{{"enabled", false}});
           }},
      {.method = "POST",
       .path = "/v1/auth/mfa/challenge",
       .limit = "mfa",
       .fields = {"challenge_token", "code"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto challenge = fields::token(body, "challenge_token");
             auto code = fields::code(body, "code");
             return tokens(a->complete_challenge(challenge, code, anonymous(req), user_agent(req)));
           }},
  };
}

}  // namespace shardlyn
