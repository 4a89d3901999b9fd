// /api/auth/totp routes: parse and validate input, call TwoFactor, shape the output.
#include <boost/json.hpp>

#include "common/envelope.hpp"
#include "input.hpp"
#include "routes.hpp"

namespace auth {

namespace {

common::Response setup(TwoFactor& t, common::Request& req) {
  auto body = req.json_object();
  auto setup = t.setup(principal_of(req), input::password(body, "password"), client_of(req));
  boost::json::array codes;
  for (auto& c : setup.backup_codes) codes.emplace_back(c);
  return common::envelope_ok(boost::json::object{
      {"secret", setup.secret}, {"otpauthUri", setup.otpauth_uri}, {"backupCodes", std::move(codes)}});
}

common::Response confirm(TwoFactor& t, common::Request& req) {
  auto body = req.json_object();
  t.confirm(principal_of(req), input::required_string(body, "code", 16), client_of(req));
  return common::envelope_ok(boost::json::object{{"enabled", true}});
}

common::Response disable(TwoFactor& t, common::Request& req) {
  auto body = req.json_object();
  auto password = input::password(body, "password");
  auto code = input::required_string(body, "code", 32);
  t.disable(principal_of(req), password, code, client_of(req));
  return common::envelope_ok(boost::json::object{{"enabled", false}});
}

common::Response status(TwoFactor& t, common::Request& req) {
  auto s = t.status(principal_of(req));
  return common::envelope_ok(
      boost::json::object{{"enabled", s.enabled}, {"backupCodesRemaining", s.backup_codes_remaining}});
}

}  // namespace

// In the order of the API reference.
std::vector<common::Route> totp_routes(TwoFactor& t) {
  return {
      {.method = "POST",
       .path = "/api/auth/totp/setup",
       .auth = "user",
       .limit = "totp",
       .fields = {"password"},
       .handler = [&t](common::Request& r) { return setup(t, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/auth/totp/verify",
       .auth = "user",
       .limit = "totp",
       .fields = {"code"},
       .handler = [&t](common::Request& r) { return confirm(t, r); }},
      {.method = "POST",
       .path = "/api/auth/totp/disable",
       .auth = "user",
       .limit = "totp",
       .fields = {"code", "password"},
       .handler = [&t](common::Request& r) { return disable(t, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/auth/totp/status",
       .auth = "user",
       .handler = [&t](common::Request& r) { return status(t, r); }},
  };
}

}  // namespace auth
