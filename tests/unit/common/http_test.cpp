#include "common/http.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace {

using common::Headers;
using common::Request;
using SV = std::optional<std::string_view>;

Request json_request(std::string body, std::string content_type = "application/json") {
  Request req;
  req.method = "POST";
  req.path = "/api/things";
  req.target = req.path;
  if (!content_type.empty()) req.headers.add("Content-Type", std::move(content_type));
  req.body = std::move(body);
  return req;
}

// Runs req.json(object_only) and returns the ApiError it throws (fails when none).
common::ApiError json_error(const Request& req, bool object_only = true) {
  try {
    (void)req.json(object_only);
  } catch (const common::ApiError& e) {
    return e;
  }
  FAIL("Request::json did not throw for body: " << req.body);
  return common::ApiError(500, "unreachable");
}

}  // namespace

TEST_CASE("http: Headers lookup is case-insensitive and keeps order and duplicates", "[common][http]") {
  Headers h;
  CHECK_FALSE(h.get("X-Anything").has_value());
  CHECK_FALSE(h.has("X-Anything"));
  h.add("Content-Type", "application/json");
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  CHECK(h.get("content-type") == SV("application/json"));
  CHECK(h.get("CONTENT-TYPE") == SV("application/json"));
  CHECK(h.has("Set-Cookie"));
  CHECK(h.get("SET-COOKIE") == SV("a=1"));  // the first of duplicates
  REQUIRE(h.items().size() == 3);
  CHECK(h.items()[1].second == "a=1");
  CHECK(h.items()[2].first == "set-cookie");
  CHECK_FALSE(h.has("Content"));
  CHECK_FALSE(h.has("Content-Type-X"));
}

TEST_CASE("http: Headers::set replaces every header of that name, remove drops them all", "[common][http]") {
  Headers h;
  h.add("Vary", "Origin");
  h.add("X-Other", "1");
  h.add("VARY", "Accept");
  h.set("vary", "Accept-Encoding");
  REQUIRE(h.items().size() == 2);
  CHECK(h.items()[0].first == "X-Other");
  CHECK(h.get("Vary") == SV("Accept-Encoding"));

  h.remove("X-OTHER");
  REQUIRE(h.items().size() == 1);
  CHECK_FALSE(h.has("X-Other"));
  h.remove("not-there");
  CHECK(h.items().size() == 1);
}

TEST_CASE("http: iequals", "[common][http]") {
  CHECK(common::iequals("Bearer", "bEARER"));
  CHECK(common::iequals("", ""));
  CHECK_FALSE(common::iequals("Bearer", "Bearer "));
  CHECK_FALSE(common::iequals("a-b", "a_b"));
}

TEST_CASE("http: percent_decode", "[common][http]") {
  using common::percent_decode;
  CHECK(percent_decode("", false) == std::optional<std::string>(""));
  CHECK(percent_decode("plain", false) == std::optional<std::string>("plain"));
  CHECK(percent_decode("a%20b", false) == std::optional<std::string>("a b"));
  CHECK(percent_decode("%2f%2F", false) == std::optional<std::string>("//"));
  CHECK(percent_decode("%C3%A9", false) == std::optional<std::string>("\xC3\xA9"));
  CHECK(percent_decode("%41", false) == std::optional<std::string>("A"));  // escape at the very end
  CHECK(percent_decode("a+b", false) == std::optional<std::string>("a+b"));
  CHECK(percent_decode("a+b", true) == std::optional<std::string>("a b"));
  CHECK(percent_decode("a%2Bb", true) == std::optional<std::string>("a+b"));  // encoded '+' stays '+'
  CHECK(percent_decode("100%25", false) == std::optional<std::string>("100%"));

  for (std::string_view bad : {"%", "%4", "a%", "%zz", "%4g", "%g4", "%%41", "%00", "a%00b"}) {
    INFO(bad);
    CHECK_FALSE(percent_decode(bad, false).has_value());
  }
  CHECK_FALSE(percent_decode(std::string_view("a\0b", 3), false).has_value());  // a raw NUL byte
}

TEST_CASE("http: percent_encode keeps unreserved characters only", "[common][http]") {
  CHECK(common::percent_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(common::percent_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
  CHECK(common::percent_encode("\xC3\xA9") == "%C3%A9");
  CHECK(common::percent_encode("+%") == "%2B%25");
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  CHECK(common::percent_decode(common::percent_encode(all), false) == std::optional<std::string>(all));
}

TEST_CASE("http: Request::query_param", "[common][http]") {
  Request req;
  req.query = "a=1&name=John+Doe&empty=&flag&a=2&enc%20key=v%26w&&q=%E2%9C%93";
  CHECK(req.query_param("a") == std::optional<std::string>("1"));  // the first one
  CHECK(req.query_param("name") == std::optional<std::string>("John Doe"));
  CHECK(req.query_param("empty") == std::optional<std::string>(""));
  CHECK(req.query_param("flag") == std::optional<std::string>(""));
  CHECK(req.query_param("enc key") == std::optional<std::string>("v&w"));
  CHECK(req.query_param("q") == std::optional<std::string>("\xE2\x9C\x93"));
  CHECK_FALSE(req.query_param("missing").has_value());
  CHECK_FALSE(req.query_param("A").has_value());  // names are case-sensitive

  Request none;
  CHECK_FALSE(none.query_param("a").has_value());

  Request bad;
  bad.query = "x=1&id=%zz";
  CHECK(bad.query_param("x") == std::optional<std::string>("1"));
  try {
    (void)bad.query_param("id");
    FAIL("malformed escape accepted");
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 400);
    CHECK_THAT(e.what(), Catch::Contains("'id'"));
  }
}

TEST_CASE("http: Request::set_target splits path and query", "[common][http]") {
  Request req;
  req.set_target("/api/items?page=2&limit=10");
  CHECK(req.target == "/api/items?page=2&limit=10");
  CHECK(req.path == "/api/items");
  CHECK(req.query == "page=2&limit=10");
  CHECK(req.query_param("page") == std::optional<std::string>("2"));

  req.set_target("/health");
  CHECK(req.path == "/health");
  CHECK(req.query.empty());

  req.set_target("/x?");
  CHECK(req.path == "/x");
  CHECK(req.query.empty());

  req.set_target("/x?a=1?b=2");  // only the first '?' splits
  CHECK(req.path == "/x");
  CHECK(req.query == "a=1?b=2");
}

TEST_CASE("http: Request::param", "[common][http]") {
  Request req;
  req.params = {{"id", "42"}, {"path", "a/b"}};
  CHECK(req.param("id") == "42");
  CHECK(req.param("path") == "a/b");
  CHECK(req.param("nope").empty());
}

TEST_CASE("http: Request::json parses an object", "[common][http]") {
  auto v = json_request(R"({"name":"n1","count":3,"tags":["a"]})").json();
  REQUIRE(v.is_object());
  CHECK(v.at("name") == "n1");
  CHECK(v.at("count") == 3);
  CHECK(v.at("tags").as_array().size() == 1);
}

TEST_CASE("http: Request::json accepts application/json with parameters, in any case", "[common][http]") {
  for (const char* type : {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
                           "Application/JSON", "application/json ; charset=utf-8"}) {
    INFO(type);
    CHECK(json_request(R"({"a":1})", type).json().at("a") == 1);
  }
}

TEST_CASE("http: Request::json without application/json is 415", "[common][http]") {
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded", "application/jsonp",
                           "application/json-patch+json", "multipart/form-data; boundary=x", "text/json"}) {
    INFO("Content-Type: '" << type << "'");
    auto e = json_error(json_request(R"({"a":1})", type));
    CHECK(e.status() == 415);
    CHECK(e.code() == "unsupported_media_type");
  }
}

TEST_CASE("http: Request::json on invalid JSON is 400 naming the byte position", "[common][http]") {
  SECTION("syntax error in the middle") {
    // The parser fails at byte 6, the 'x'.
    auto e = json_error(json_request(R"({"a": x})"));
    CHECK(e.status() == 400);
    CHECK(e.code() == "bad_request");
    CHECK_THAT(e.what(), Catch::StartsWith("invalid JSON at byte 6"));
  }
  SECTION("trailing comma") {
    auto e = json_error(json_request(R"({"a":1,})"));
    CHECK(e.status() == 400);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid JSON at byte 7"));
  }
  SECTION("garbage from the start") {
    auto e = json_error(json_request("hello"));
    CHECK(e.status() == 400);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid JSON at byte "));
  }
}

TEST_CASE("http: Request::json on truncated, empty or trailing-garbage bodies is 400 with a position",
          "[common][http]") {
  struct Case {
    const char* body;
    const char* position;
  };
  for (auto c : {Case{"", "invalid JSON at byte 0"}, Case{"   ", "invalid JSON at byte 3"},
                 Case{R"({"a":1)", "invalid JSON at byte 6"}, Case{R"({"a":"unterminated)", "invalid JSON at byte 18"},
                 Case{R"({"a":1} x)", "invalid JSON at byte 8"}}) {
    INFO("body: '" << c.body << "'");
    auto e = json_error(json_request(c.body));
    CHECK(e.status() == 400);
    CHECK(e.code() == "bad_request");
    CHECK_THAT(e.what(), Catch::StartsWith(c.position));
  }
}

TEST_CASE("http: Request::json names the error for truncated, empty or trailing-garbage bodies", "[common][http]") {
  // BUG: Request::json re-runs stream_parser::write_some to find the position, which resets
  // the error_code when the input is merely incomplete or followed by extra data, so the
  // message ends in ": Success" instead of saying what is wrong.
  for (const char* body : {"", R"({"a":1)", R"({"a":1} x)", R"({"a":"unterminated)"}) {
    INFO("body: '" << body << "'");
    auto e = json_error(json_request(body));
    CHECK_THAT(e.what(), !Catch::Contains("Success"));
  }
}

TEST_CASE("http: Request::json nesting is limited", "[common][http]") {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto e = json_error(json_request(deep), false);
  CHECK(e.status() == 400);
  CHECK_THAT(e.what(), Catch::StartsWith("invalid JSON at byte "));
}

TEST_CASE("http: Request::json requires an object only when object_only", "[common][http]") {
  for (const char* body : {"[1,2]", "\"text\"", "42", "null", "true"}) {
    INFO(body);
    auto e = json_error(json_request(body));
    CHECK(e.status() == 400);
    CHECK_THAT(e.what(), Catch::Contains("object"));
    CHECK_NOTHROW(json_request(body).json(false));
  }
  CHECK(json_request("[1,2]").json(false).as_array().size() == 2);
}

TEST_CASE("http: Request::bearer_token", "[common][http]") {
  // The token is a view into the request, so copy it out before the request goes away.
  auto token_of = [](const char* header) -> std::optional<std::string> {
    Request req;
    if (header) req.headers.add("Authorization", header);
    auto token = req.bearer_token();
    if (!token) return std::nullopt;
    return std::string(*token);
  };
  using S = std::optional<std::string>;
  CHECK(token_of("Bearer abc.def.ghi") == S("abc.def.ghi"));
  CHECK(token_of("bearer abc") == S("abc"));
  CHECK(token_of("BEARER abc") == S("abc"));
  CHECK(token_of("Bearer   abc  ") == S("abc"));
  CHECK_FALSE(token_of(nullptr).has_value());
  CHECK_FALSE(token_of("").has_value());
  CHECK_FALSE(token_of("Bearer").has_value());
  CHECK_FALSE(token_of("Bearer ").has_value());
  CHECK_FALSE(token_of("Bearer    ").has_value());
  CHECK_FALSE(token_of("Bearerabc").has_value());
  CHECK_FALSE(token_of("Basic dXNlcjpwYXNz").has_value());
  CHECK_FALSE(token_of("Token abc").has_value());

  Request lower;
  lower.headers.add("authorization", "Bearer xyz");
  CHECK(lower.bearer_token() == SV("xyz"));
}

TEST_CASE("http: Response factories", "[common][http]") {
  auto j = common::Response::json(boost::json::object{{"a", 1}}, 201);
  CHECK(j.status == 201);
  CHECK(j.body == R"({"a":1})");
  CHECK(j.headers.get("Content-Type") == SV("application/json"));

  auto t = common::Response::text("hi");
  CHECK(t.status == 200);
  CHECK(t.body == "hi");
  CHECK(t.headers.get("content-type") == SV("text/plain; charset=utf-8"));

  auto e = common::Response::empty();
  CHECK(e.status == 204);
  CHECK(e.body.empty());
  CHECK(e.headers.items().empty());
}
