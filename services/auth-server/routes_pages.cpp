// The pages behind the links in mails: they finish verification and password reset through
// the API, so a link a person clicks lands on a page that does the job.
#include "common/error.hpp"
#include "common/page_files.hpp"
#include "routes.hpp"

std::span<const common::EmbeddedFile> auth_server_assets();

namespace auth {

namespace {

common::Response asset(std::string_view name) {
  auto res = common::page_file(auth_server_assets(), name,
                               "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  // The link's token is in the page address: it must not travel on in a Referer.
  res.headers.add("Referrer-Policy", "no-referrer");
  res.headers.add("Cache-Control", "no-store");
  return res;
}

common::Response account_page(common::Request&) { return asset("account.html"); }

common::Response account_file(common::Request& req) {
  auto name = req.param("asset");
  if (!name.ends_with(".js") && !name.ends_with(".css")) throw common::ApiError::not_found("no such page file");
  return asset(name);
}

}  // namespace

// Pages and files are outside the rate limits; the API calls they make are limited.
std::vector<common::Route> page_routes() {
  return {
      {.method = "GET", .path = "/verify-email", .limit = "none", .query = {"token"}, .handler = account_page},
      {.method = "GET", .path = "/reset-password", .limit = "none", .query = {"token"}, .handler = account_page},
      {.method = "GET", .path = "/account/{asset}", .limit = "none", .handler = account_file},
  };
}

}  // namespace auth
