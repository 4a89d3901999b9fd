#include "http/route_table.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

common::Response ok(common::Request&) { return common::Response::empty(204); }

// A route table as the service declares one, plus a route of libcommon's own (no scope).
shardlyn::Routes table() {
  using namespace shardlyn;
  auto routes = join({
      group("/v1/organizations/{orgId}", Guard{Auth::Member, OrgScope::Path},
            {
                get("/members", "members.read", ok),
                del("/members/{userId}", "members.manage", ok),
            }),
      group("/v1/auth", Guard{}, {post("/login", "", ok)}),
  });
  routes.push_back({.method = "GET", .path = "/health", .handler = ok});
  return routes;
}

constexpr const char* kDocument = R"(openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /health:
    get: {responses: {"200": {description: OK}}}
  /v1/auth/login:
    post: {x-shardlyn-auth: public, x-shardlyn-org: none, x-shardlyn-permission: "", responses: {}}
  /v1/organizations/{orgId}/members:
    get: {x-shardlyn-auth: jwt_or_api_token, x-shardlyn-org: path, x-shardlyn-permission: members.read, responses: {}}
  /v1/organizations/{orgId}/members/{userId}:
    delete: {x-shardlyn-auth: jwt, x-shardlyn-org: current, x-shardlyn-permission: members.read, responses: {}}
)";

}  // namespace

TEST_CASE("a group states its prefix and guard once, as route data") {
  auto routes = table();
  REQUIRE(routes.size() == 4);
  CHECK(routes[0].method == "GET");
  CHECK(routes[0].path == "/v1/organizations/{orgId}/members");
  CHECK(routes[0].auth == "jwt_or_api_token");
  CHECK(routes[0].scope == "path");
  CHECK(routes[0].permission == "members.read");
  CHECK(routes[1].method == "DELETE");
  CHECK(routes[1].permission == "members.manage");
  CHECK(routes[2].auth == "public");
  CHECK(routes[2].scope == "none");
}

TEST_CASE("the guard check compares x-shardlyn-* with the routes the table declared") {
  auto problems = shardlyn::Access::check_document(table(), kDocument);
  // The delete route disagrees on all three; the agreeing routes and /health (no guard of
  // the service's) are not reported.
  CHECK(problems == std::vector<std::string>{
                        "DELETE /v1/organizations/{orgId}/members/{userId}: x-shardlyn-auth should be jwt_or_api_token",
                        "DELETE /v1/organizations/{orgId}/members/{userId}: x-shardlyn-org should be path",
                        "DELETE /v1/organizations/{orgId}/members/{userId}: x-shardlyn-permission should be "
                        "'members.manage'",
                    });
}
