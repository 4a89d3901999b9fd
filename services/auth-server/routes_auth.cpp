// /api/auth routes: parse and validate input, call Accounts, shape the output.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "identity/request_origin.hpp"
#include "input.hpp"
#include "routes.hpp"

namespace auth {

namespace json = boost::json;

json::object user_json(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"role", u.role},
          {"tier", u.tier},
          {"emailVerified", u.email_verified},
          {"twoFactorEnabled", u.two_factor_enabled},
          {"createdAt", common::rfc3339_from_unix(u.created_at)}};
}

namespace {

json::object signed_in_json(const SignedIn& s) {
  return {{"user", user_json(s.user)},
          {"token", s.access.token},
          {"refreshToken", s.session.refresh_token},
          {"expiresAt", common::rfc3339_from_unix(s.access.expires_at)}};
}

json::object session_json(const identity::Session& s, std::string_view current) {
  return {{"id", s.id},
          {"ip", s.ip},
          {"userAgent", s.user_agent},
          {"createdAt", common::rfc3339_from_unix(s.created_at)},
          {"lastUsedAt", common::rfc3339_from_unix(s.last_used_at)},
          {"expiresAt", common::rfc3339_from_unix(s.expires_at)},
          {"current", s.id == current}};
}

json::object message(std::string_view text) { return {{"message", text}}; }

}  // namespace

identity::Client client_of(const common::Request& req) { return identity::client_of(req); }

namespace {

common::Response register_account(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  auto email = input::email(body, "email");
  auto name = input::name(body, "name");
  auto password = input::new_password(body, "password");
  auto result = a.register_account(email, name, password, client_of(req));
  if (!result)
    return common::envelope_ok(message("If this email address can be registered, a message has been sent to it."));
  return common::envelope_ok(signed_in_json(*result), 201);
}

common::Response login(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  auto email = input::required_string(body, "email", 254);
  auto password = input::password(body, "password");
  Accounts::SecondFactor factor{input::optional_string(body, "totpCode", 16),
                                input::optional_string(body, "backupCode", 32)};
  for (auto& ch : email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto result = a.login(email, password, factor, client_of(req));
  if (!result) return common::envelope_ok(json::object{{"requiresTwoFactor", true}});
  return common::envelope_ok(signed_in_json(*result));
}

common::Response refresh(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  auto token = input::token(body, "refreshToken");
  return common::envelope_ok(signed_in_json(a.refresh(token, client_of(req))));
}

common::Response logout(Accounts& a, common::Request& req) {
  a.logout(principal_of(req), client_of(req));
  return common::envelope_ok(message("signed out"));
}

common::Response me(common::Request& req) {
  // The account was read with the session check: no second query.
  return common::envelope_ok(json::object{{"user", user_json(principal_of(req).account)}});
}

common::Response update_me(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  Accounts::ProfileChange change;
  if (body.contains("name")) change.name = input::name(body, "name");
  if (body.contains("email")) change.email = input::email(body, "email");
  change.current_password = input::optional_string(body, "currentPassword", 128);
  if (!change.name && !change.email) throw common::ApiError::validation("'name' or 'email' is required");
  auto user = a.update_profile(principal_of(req), change, client_of(req));
  return common::envelope_ok(json::object{{"user", user_json(user)}});
}

common::Response change_password(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  auto current = input::password(body, "currentPassword");
  auto replacement = input::new_password(body, "newPassword");
  a.change_password(principal_of(req), current, replacement, client_of(req));
  return common::envelope_ok(message("password changed; other sessions have been signed out"));
}

common::Response list_sessions(Accounts& a, common::Request& req) {
  const auto& caller = principal_of(req);
  auto page = common::parse_page(req);
  auto [sessions, total] = a.sessions(caller, page.limit, page.offset());
  json::array items;
  for (const auto& s : sessions) items.push_back(session_json(s, caller.session_id));
  return common::envelope_page(std::move(items), total, page);
}

common::Response revoke_session(Accounts& a, common::Request& req) {
  a.revoke_session(principal_of(req), std::string(req.param("id")), client_of(req));
  return common::envelope_ok(message("session revoked"));
}

common::Response verify_email(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  a.verify_email(input::token(body, "token"), client_of(req));
  return common::envelope_ok(message("email address verified"));
}

common::Response forgot_password(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  a.forgot_password(input::email(body, "email"), client_of(req));
  return common::envelope_ok(
      message("If an account uses this email address, a password reset link has been sent to it."));
}

common::Response reset_password(Accounts& a, common::Request& req) {
  auto body = req.json_object();
  auto token = input::token(body, "token");
  auto password = input::new_password(body, "password");
  a.reset_password(token, password, client_of(req));
  return common::envelope_ok(message("password changed; every session has been signed out"));
}

}  // namespace

// In the order of the API reference.
std::vector<common::Route> auth_routes(Accounts& a) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/auth/register",
       .limit = "register",
       .fields = {"email", "name", "password"},
       .handler = [&a](Request& r) { return register_account(a, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/auth/login",
       .limit = "login",
       .fields = {"backupCode", "email", "password", "totpCode"},
       .handler = [&a](Request& r) { return login(a, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/auth/refresh",
       .fields = {"refreshToken"},
       .handler = [&a](Request& r) { return refresh(a, r); }},
      {.method = "POST",
       .path = "/api/auth/logout",
       .auth = "user",
       .handler = [&a](Request& r) { return logout(a, r); }},
      {.method = "GET", .path = "/api/auth/me", .auth = "user", .handler = me},
      {.method = "PATCH",
       .path = "/api/auth/me",
       .auth = "user",
       .fields = {"currentPassword", "email", "name"},
       .handler = [&a](Request& r) { return update_me(a, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/auth/change-password",
       .auth = "user",
       .limit = "login",
       .fields = {"currentPassword", "newPassword"},
       .handler = [&a](Request& r) { return change_password(a, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/auth/sessions",
       .auth = "user",
       .query = {"limit", "page"},
       .handler = [&a](Request& r) { return list_sessions(a, r); }},
      {.method = "DELETE",
       .path = "/api/auth/sessions/{id}",
       .auth = "user",
       .handler = [&a](Request& r) { return revoke_session(a, r); }},
      {.method = "POST",
       .path = "/api/auth/verify-email",
       .fields = {"token"},
       .handler = [&a](Request& r) { return verify_email(a, r); }},
      {.method = "POST",
       .path = "/api/auth/forgot-password",
       .limit = "reset",
       .fields = {"email"},
       .handler = [&a](Request& r) { return forgot_password(a, r); }},
      {.method = "POST",
       .path = "/api/auth/reset-password",
       .limit = "reset",
       .fields = {"password", "token"},
       .handler = [&a](Request& r) { return reset_password(a, r); },
       .offload = true},
  };
}

}  // namespace auth
