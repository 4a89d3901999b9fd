// A route's own error renderer (Route::render_error) against the service's response style.
#include <catch2/catch.hpp>

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/envelope.hpp"
#include "common/router.hpp"

namespace {

namespace json = boost::json;

// An API with its own error shape and media type, as TAXII has.
common::Response problem(const common::ApiError& e) {
  return common::Response::text(json::serialize(json::object{{"title", common::reason_phrase(e.status())},
                                                             {"description", e.what()},
                                                             {"http_status", std::to_string(e.status())}}),
                                "application/taxii+json;version=2.1", 500);
}

}  // namespace

TEST_CASE("a route with a renderer answers its errors in its own shape") {
  common::Route route{.method = "GET", .path = "/taxii2/", .render_error = problem};
  auto e = common::ApiError(429, "rate limit exceeded, retry in 7 s").with_header("Retry-After", "7");
  auto res = common::error_response(&route, common::ResponseStyle::Envelope, e);
  // The error decides the status, whatever the renderer set, and keeps its headers.
  CHECK(res.status == 429);
  CHECK(res.headers.get("Retry-After") == std::optional<std::string_view>("7"));
  CHECK(res.headers.get("Content-Type") == std::optional<std::string_view>("application/taxii+json;version=2.1"));
  auto body = json::parse(res.body).as_object();
  CHECK(body.at("http_status") == "429");
  CHECK(body.at("title") == "Too Many Requests");
  CHECK(body.at("description") == "rate limit exceeded, retry in 7 s");
  CHECK_FALSE(body.contains("ok"));
}

TEST_CASE("without a renderer, or without a route, errors keep the service's style") {
  common::Route plain{.method = "GET", .path = "/api/iocs"};
  auto e = common::ApiError::unauthorized("missing API key");
  for (const common::Route* route : {static_cast<const common::Route*>(&plain), static_cast<const common::Route*>(nullptr)}) {
    auto envelope = common::error_response(route, common::ResponseStyle::Envelope, e);
    CHECK(envelope.status == 401);
    CHECK(envelope.body == common::error_response(common::ResponseStyle::Envelope, e).body);
    auto bare = common::error_response(route, common::ResponseStyle::Bare, e);
    CHECK(json::parse(bare.body).as_object() == json::object{{"error", "missing API key"}});
  }
}
