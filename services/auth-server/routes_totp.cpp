// /api/auth/totp routes: parse and validate input, call TwoFactor, shape the output.
#include <boost/json.hpp>

#include "common/envelope.hpp"
#include "input.hpp"
#include "routes.hpp"

namespace auth {

void add_totp_routes(common::Service& service, TwoFactor& two_factor) {
  TwoFactor* t = &two_factor;
  service.add({
      {.method = "POST",
       .path = "/api/auth/totp/setup",
       .auth = "user",
       .limit = "totp",
       .fields = {"password"},
       .handler =
           [t](common::Request& req) {
             auto body = req.json_object();
             auto setup = t->setup(principal_of(req), input::password(body, "password"), client_of(req));
             boost::json::array codes;
             for (auto& c : setup.backup_codes) codes.emplace_back(c);
             return common::envelope_ok(boost::json::object{
                 {"secret", setup.secret}, {"otpauthUri", setup.otpauth_uri}, {"backupCodes", std::move(codes)}});
           },
       .offload = true},
      {.method = "POST",
       .path = "/api/auth/totp/verify",
       .auth = "user",
       .limit = "totp",
       .fields = {"code"},
       .handler =
           [t](common::Request& req) {
             auto body = req.json_object();
             t->confirm(principal_of(req), input::required_string(body, "code", 16), client_of(req));
             return common::envelope_ok(boost::json::object{{"enabled", true}});
           }},
      {.method = "POST",
       .path = "/api/auth/totp/disable",
       .auth = "user",
       .limit = "totp",
       .fields = {"code", "password"},
       .handler =
           [t](common::Request& req) {
             auto body = req.json_object();
             auto password = input::password(body, "password");
             auto code = input::required_string(body, "code", 32);
             t->disable(principal_of(req), password, code, client_of(req));
             return common::envelope_ok(boost::json::object{{"enabled", false}});
           },
       .offload = true},
      {.method = "GET",
       .path = "/api/auth/totp/status",
       .auth = "user",
       .handler =
           [t](common::Request& req) {
             auto s = t->status(principal_of(req));
             return common::envelope_ok(
                 boost::json::object{{"enabled", s.enabled}, {"backupCodesRemaining", s.backup_codes_remaining}});
           }},
  });
}

}  // namespace auth
