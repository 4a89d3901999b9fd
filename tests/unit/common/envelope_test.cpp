#include "common/envelope.hpp"

#include <catch2/catch.hpp>

#include <string>

#include <boost/json/parse.hpp>

namespace {

namespace json = boost::json;
using common::PageRequest;

json::object body_of(const common::Response& r) {
  auto v = json::parse(r.body);
  REQUIRE(v.is_object());
  return v.as_object();
}

common::Request with_query(std::string query) {
  common::Request req;
  req.method = "GET";
  req.path = "/api/items";
  req.query = std::move(query);
  req.target = req.path + (req.query.empty() ? "" : "?" + req.query);
  return req;
}

PageRequest page_of(std::int64_t page, std::int64_t limit) {
  PageRequest p;
  p.page = page;
  p.limit = limit;
  return p;
}

}  // namespace

TEST_CASE("envelope: envelope_ok wraps data", "[common][envelope]") {
  auto r = common::envelope_ok(json::object{{"id", "ag-1"}, {"n", 3}});
  CHECK(r.status == 200);
  CHECK(r.headers.get("Content-Type") == std::optional<std::string_view>("application/json"));
  auto body = body_of(r);
  CHECK(body.size() == 2);
  CHECK(body.at("ok") == true);
  CHECK(body.at("data").at("id") == "ag-1");
  CHECK(body.at("data").at("n") == 3);

  auto created = common::envelope_ok(json::array{1, 2}, 201);
  CHECK(created.status == 201);
  auto cb = body_of(created);
  CHECK(cb.at("data").as_array().size() == 2);

  CHECK(body_of(common::envelope_ok(nullptr)).at("data").is_null());
}

TEST_CASE("envelope: envelope_page has data and pagination", "[common][envelope]") {
  auto r = common::envelope_page(json::array{"a", "b"}, 342, page_of(2, 50));
  CHECK(r.status == 200);
  auto body = body_of(r);
  CHECK(body.size() == 3);
  CHECK(body.at("ok") == true);
  REQUIRE(body.at("data").is_array());
  CHECK(body.at("data").as_array() == json::array{"a", "b"});
  const auto& p = body.at("pagination").as_object();
  CHECK(p.size() == 4);
  CHECK(p.at("total") == 342);
  CHECK(p.at("page") == 2);
  CHECK(p.at("limit") == 50);
  CHECK(p.at("pages") == 7);
}

TEST_CASE("envelope: pages = ceil(total / limit)", "[common][envelope]") {
  struct Case {
    std::int64_t total, limit, pages;
  };
  for (auto c : {Case{0, 50, 0}, Case{1, 50, 1}, Case{49, 50, 1}, Case{50, 50, 1}, Case{51, 50, 2}, Case{100, 50, 2},
                 Case{101, 50, 3}, Case{342, 50, 7}, Case{5, 1, 5}, Case{0, 1, 0}, Case{401, 200, 3}}) {
    INFO("total " << c.total << " limit " << c.limit);
    auto body = body_of(common::envelope_page(json::array{}, c.total, page_of(1, c.limit)));
    CHECK(body.at("pagination").at("pages") == c.pages);
    CHECK(body.at("pagination").at("total") == c.total);
  }
}

TEST_CASE("envelope: bare_page is the Shardlyn list shape", "[common][envelope]") {
  auto r = common::bare_page(json::array{json::object{{"id", 1}}}, 3, page_of(1, 2));
  CHECK(r.status == 200);
  auto body = body_of(r);
  CHECK(body.size() == 4);
  CHECK(body.at("items").as_array().size() == 1);
  CHECK(body.at("items").at(0).at("id") == 1);
  CHECK(body.at("total") == 3);
  CHECK(body.at("page") == 1);
  CHECK(body.at("per_page") == 2);
  CHECK_FALSE(body.contains("ok"));
  CHECK_FALSE(body.contains("pagination"));
}

TEST_CASE("envelope: error_response in both styles", "[common][envelope]") {
  SECTION("envelope style") {
    auto r = common::error_response(common::ResponseStyle::Envelope, common::ApiError::not_found("agent not found"));
    CHECK(r.status == 404);
    auto body = body_of(r);
    CHECK(body.size() == 3);
    CHECK(body.at("ok") == false);
    CHECK(body.at("error") == "agent not found");
    CHECK(body.at("code") == "not_found");
  }
  SECTION("bare style") {
    auto r = common::error_response(common::ResponseStyle::Bare, common::ApiError(409, "node already exists"));
    CHECK(r.status == 409);
    auto body = body_of(r);
    CHECK(body.size() == 1);
    CHECK(body.at("error") == "node already exists");
  }
  SECTION("custom code and headers are carried over") {
    common::ApiError e(429, "slow down");
    e.with_header("Retry-After", "7");
    auto r = common::error_response(common::ResponseStyle::Envelope, e);
    CHECK(r.status == 429);
    CHECK(r.headers.get("retry-after") == std::optional<std::string_view>("7"));
    CHECK(r.headers.get("Content-Type") == std::optional<std::string_view>("application/json"));
    CHECK(body_of(r).at("code") == "rate_limited");

    auto unauth = common::error_response(common::ResponseStyle::Bare, common::ApiError::unauthorized());
    CHECK(unauth.status == 401);
    CHECK(unauth.headers.get("WWW-Authenticate") == std::optional<std::string_view>("Bearer"));
  }
  SECTION("messages with quotes and control characters stay valid JSON") {
    auto r = common::error_response(common::ResponseStyle::Envelope,
                                    common::ApiError::validation("field \"name\" has\na newline \\ here"));
    auto body = body_of(r);
    CHECK(body.at("error") == "field \"name\" has\na newline \\ here");
    CHECK(body.at("code") == "validation_error");
  }
}

TEST_CASE("envelope: parse_page defaults and bounds", "[common][envelope]") {
  SECTION("defaults") {
    auto p = common::parse_page(with_query(""));
    CHECK(p.page == 1);
    CHECK(p.limit == 50);
    CHECK(p.offset() == 0);
  }
  SECTION("explicit values") {
    auto p = common::parse_page(with_query("page=3&limit=20&q=x"));
    CHECK(p.page == 3);
    CHECK(p.limit == 20);
    CHECK(p.offset() == 40);
  }
  SECTION("limit above 200 is reduced to 200") {
    CHECK(common::parse_page(with_query("limit=500")).limit == 200);
    CHECK(common::parse_page(with_query("limit=200")).limit == 200);
    CHECK(common::parse_page(with_query("limit=201")).limit == 200);
    CHECK(common::parse_page(with_query("limit=1")).limit == 1);
  }
  SECTION("per_page for Shardlyn") {
    auto p = common::parse_page(with_query("page=2&per_page=10&limit=99"), "per_page");
    CHECK(p.page == 2);
    CHECK(p.limit == 10);
    CHECK(common::parse_page(with_query("per_page=1000"), "per_page").limit == 200);
    CHECK(common::parse_page(with_query("limit=10"), "per_page").limit == 50);  // limit is not per_page
  }
}

TEST_CASE("envelope: invalid page or limit is a 400 validation_error naming the parameter", "[common][envelope]") {
  struct Case {
    const char* query;
    const char* limit_name;
    const char* names;
  };
  for (auto c :
       {Case{"page=0", "limit", "page"}, Case{"page=-1", "limit", "page"}, Case{"page=abc", "limit", "page"},
        Case{"page=", "limit", "page"}, Case{"page=1.5", "limit", "page"}, Case{"limit=abc", "limit", "limit"},
        Case{"limit=-1", "limit", "limit"}, Case{"limit=0", "limit", "limit"}, Case{"limit=", "limit", "limit"},
        Case{"limit=10abc", "limit", "limit"}, Case{"limit=99999999999999999999999", "limit", "limit"},
        Case{"per_page=0", "per_page", "per_page"}, Case{"page=2&per_page=x", "per_page", "per_page"}}) {
    INFO(c.query);
    try {
      (void)common::parse_page(with_query(c.query), c.limit_name);
      FAIL("accepted " << c.query);
    } catch (const common::ApiError& e) {
      CHECK(e.status() == 400);
      CHECK(e.code() == "validation_error");
      CHECK_THAT(e.what(), Catch::Contains(std::string("'") + c.names + "'"));
    }
  }
}
