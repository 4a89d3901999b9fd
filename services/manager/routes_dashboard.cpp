// The fleet dashboard: one page and its script and style, all served by the manager.
#include "common/error.hpp"
#include "common/page_files.hpp"
#include "common/service.hpp"
#include "routes.hpp"

std::span<const common::EmbeddedFile> manager_assets();

namespace manager {

namespace {

common::Response asset(std::string_view name) {
  // Only this origin's script and style; the page reads the API with fetch.
  auto res = common::page_file(
      manager_assets(), name,
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  res.headers.add("Cache-Control", "no-cache");
  return res;
}

common::Response dashboard_file(common::Request& req) {
  auto name = req.param("asset");
  if (name == "dashboard.html") throw common::ApiError::not_found("no such dashboard file");
  return asset(name);
}

}  // namespace

std::vector<common::Route> dashboard_routes() {
  using common::Request;
  return {
      // Static files: the docs' bucket, not the API's per-IP limit.
      {.method = "GET",
       .path = "/dashboard",
       .limit = std::string(common::kStaticLimit),
       .handler = [](Request&) { return asset("dashboard.html"); }},
      {.method = "GET",
       .path = "/dashboard/{asset}",
       .limit = std::string(common::kStaticLimit),
       .handler = [](Request& r) { return dashboard_file(r); }},
  };
}

}  // namespace manager
