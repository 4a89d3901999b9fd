// The fleet dashboard: one page and its script and style, all served by the manager.
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "routes.hpp"

std::span<const common::EmbeddedFile> manager_assets();

namespace manager {

namespace {

const char* content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/javascript; charset=utf-8";
}

common::Response asset(std::string_view name) {
  for (const auto& file : manager_assets()) {
    if (file.name != name) continue;
    auto res = common::Response::text(std::string(file.data), content_type(name));
    // Only this origin's script and style; the page reads the API with fetch.
    res.headers.add(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    res.headers.add("Cache-Control", "no-cache");
    return res;
  }
  throw common::ApiError::not_found("no such dashboard file");
}

}  // namespace

void add_dashboard_routes(common::Service& service) {
  service.add({
      // Static files: the docs' bucket, not the API's per-IP limit.
      {.method = "GET",
       .path = "/dashboard",
       .limit = std::string(common::kStaticLimit),
       .handler = [](common::Request&) { return asset("dashboard.html"); }},
      {.method = "GET",
       .path = "/dashboard/{asset}",
       .limit = std::string(common::kStaticLimit),
       .handler =
           [](common::Request& req) {
             auto name = req.param("asset");
             if (name == "dashboard.html") throw common::ApiError::not_found("no such dashboard file");
             return asset(name);
           }},
  });
}

}  // namespace manager
