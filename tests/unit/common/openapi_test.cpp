#include "common/openapi.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

namespace {

namespace json = boost::json;

json::value scalar(const std::string& yaml_value) {
  auto doc = common::yaml_to_json("v: " + yaml_value + "\n");
  REQUIRE(doc.is_object());
  return doc.at("v");
}

common::Route route(std::string method, std::string path) {
  common::Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.handler = [](common::Request&) { return common::Response::empty(); };
  return r;
}

bool has(const std::vector<std::string>& problems, const std::string& line) {
  return std::find(problems.begin(), problems.end(), line) != problems.end();
}

}  // namespace

TEST_CASE("openapi: plain scalars follow the YAML 1.2 core schema", "[common][openapi]") {
  SECTION("integers") {
    for (auto [text, expected] : std::vector<std::pair<std::string, std::int64_t>>{
             {"0", 0}, {"42", 42}, {"-7", -7}, {"+7", 7}, {"007", 7}, {"9223372036854775807", INT64_MAX}}) {
      INFO(text);
      auto v = scalar(text);
      REQUIRE(v.is_int64());
      CHECK(v.as_int64() == expected);
    }
  }
  SECTION("floats") {
    for (auto [text, expected] : std::vector<std::pair<std::string, double>>{
             {"1.5", 1.5}, {"-0.25", -0.25}, {".5", 0.5}, {"1e3", 1000.0}, {"2.5E-1", 0.25}, {"+3.0", 3.0}}) {
      INFO(text);
      auto v = scalar(text);
      REQUIRE(v.is_double());
      CHECK(v.as_double() == Approx(expected));
    }
    // Too big for int64: a number still, as a double.
    auto big = scalar("99999999999999999999");
    REQUIRE(big.is_double());
    CHECK(big.as_double() == Approx(1e20));
  }
  SECTION("booleans") {
    for (const char* t : {"true", "True", "TRUE"}) CHECK(scalar(t) == true);
    for (const char* f : {"false", "False", "FALSE"}) CHECK(scalar(f) == false);
  }
  SECTION("null") {
    for (const char* n : {"null", "Null", "NULL", "~", ""}) {
      INFO("'" << n << "'");
      CHECK(scalar(n).is_null());
    }
  }
  SECTION("everything else is a string") {
    // YAML 1.1 booleans, versions, dates and words stay strings in 1.2.
    for (const char* s : {"yes", "no", "on", "off", "3.1.0", "1.2.3.4", "2026-01-31", "hello world", "1_000", "12abc",
                          "tRUE", "nul", "0.0.0.0/0", "application/json"}) {
      INFO(s);
      auto v = scalar(s);
      REQUIRE(v.is_string());
      CHECK(v.as_string() == s);
    }
  }
}

TEST_CASE("openapi: quoted scalars always stay strings", "[common][openapi]") {
  for (auto [yaml, expected] : std::vector<std::pair<std::string, std::string>>{{"\"123\"", "123"},
                                                                                {"'123'", "123"},
                                                                                {"\"1.5\"", "1.5"},
                                                                                {"'true'", "true"},
                                                                                {"\"false\"", "false"},
                                                                                {"\"null\"", "null"},
                                                                                {"'~'", "~"},
                                                                                {"\"\"", ""},
                                                                                {"''", ""},
                                                                                {"\"a: b\"", "a: b"},
                                                                                {"\"tab\\there\"", "tab\there"}}) {
    INFO(yaml);
    auto v = scalar(yaml);
    REQUIRE(v.is_string());
    CHECK(v.as_string() == expected);
  }
}

TEST_CASE("openapi: an explicit !!str tag keeps a plain scalar a string", "[common][openapi]") {
  // BUG: scalar_to_json only treats the non-specific tag "!" (quoted) as a string; a plain
  // scalar tagged !!str (tag:yaml.org,2002:str) is still resolved, so "!!str 123" becomes 123.
  auto v = scalar("!!str 123");
  REQUIRE(v.is_string());
  CHECK(v.as_string() == "123");
}

TEST_CASE("openapi: block scalars stay strings", "[common][openapi]") {
  auto doc = common::yaml_to_json("literal: |\n  200\nfolded: >\n  true\n");
  REQUIRE(doc.at("literal").is_string());
  CHECK(doc.at("literal").as_string() == "200\n");
  REQUIRE(doc.at("folded").is_string());
  CHECK(doc.at("folded").as_string() == "true\n");
}

TEST_CASE("openapi: a document converts to nested JSON", "[common][openapi]") {
  const char* yaml = R"(openapi: 3.1.0
info:
  title: "Test API"
  version: '1.0'
paths:
  /v1/nodes/{id}:
    get:
      responses:
        200:
          description: OK
        "404":
          description: Not found
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: string, maxLength: 64}
tags: [a, 1, null]
)";
  auto doc = common::yaml_to_json(yaml);
  auto expected = json::parse(R"({
    "openapi": "3.1.0",
    "info": {"title": "Test API", "version": "1.0"},
    "paths": {"/v1/nodes/{id}": {"get": {
      "responses": {"200": {"description": "OK"}, "404": {"description": "Not found"}},
      "parameters": [{"name": "id", "in": "path", "required": true,
                      "schema": {"type": "string", "maxLength": 64}}]}}},
    "tags": ["a", 1, null]
  })");
  CHECK(doc == expected);
}

TEST_CASE("openapi: JSON input is accepted too", "[common][openapi]") {
  auto doc = common::yaml_to_json(R"({"a": [1, 2.5, "x", true, null], "b": {"c": "3"}})");
  CHECK(doc == json::parse(R"({"a": [1, 2.5, "x", true, null], "b": {"c": "3"}})"));
}

TEST_CASE("openapi: malformed YAML throws with the line", "[common][openapi]") {
  CHECK_THROWS_AS(common::yaml_to_json("a: 1\nb: [1, 2\n"), std::runtime_error);
  CHECK_THROWS_WITH(common::yaml_to_json("a: 1\nb: [1, 2\n"), Catch::Contains("line"));
  CHECK_THROWS_WITH(common::yaml_to_json("a: {b: 1\n"), Catch::Contains("invalid YAML"));
  CHECK_THROWS_WITH(common::yaml_to_json("a: 1\n  b: 2\n"), Catch::Contains("line 2"));
}

TEST_CASE("openapi: routes and document agree", "[common][openapi]") {
  std::vector<common::Route> routes{route("GET", "/health"), route("GET", "/v1/nodes/{id}"),
                                    route("DELETE", "/v1/nodes/{id}"), route("POST", "/v1/nodes")};
  auto doc = common::yaml_to_json(R"(
openapi: 3.1.0
paths:
  /health:
    get: {summary: health}
  /v1/nodes/{id}:
    summary: a path-level field, not a method
    parameters:
      - {name: id, in: path}
    get: {}
    delete: {}
  /v1/nodes:
    post: {}
)");
  CHECK(common::openapi_mismatches(routes, doc.as_object()).empty());
}

TEST_CASE("openapi: mismatches are reported in both directions", "[common][openapi]") {
  std::vector<common::Route> routes{route("GET", "/health"), route("POST", "/v1/nodes"),
                                    route("GET", "/v1/nodes/{id}")};
  auto doc = common::yaml_to_json(R"(
paths:
  /health:
    get: {}
  /v1/nodes:
    get: {}
  /v1/nodes/{node_id}:
    get: {}
)");
  auto problems = common::openapi_mismatches(routes, doc.as_object());
  INFO([&] {
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    return all;
  }());
  CHECK(problems.size() == 4);
  CHECK(has(problems, "route POST /v1/nodes is not documented"));
  CHECK(has(problems, "route GET /v1/nodes/{id} is not documented"));
  CHECK(has(problems, "documented GET /v1/nodes has no route"));
  CHECK(has(problems, "documented GET /v1/nodes/{node_id} has no route"));
}

TEST_CASE("openapi: a {name*} rest parameter is documented as {name}", "[common][openapi]") {
  std::vector<common::Route> routes{route("GET", "/files/{path*}")};
  SECTION("documented as {path}") {
    auto doc = common::yaml_to_json("paths:\n  /files/{path}:\n    get: {}\n");
    CHECK(common::openapi_mismatches(routes, doc.as_object()).empty());
  }
  SECTION("not documented") {
    auto doc = common::yaml_to_json("paths:\n  /other:\n    get: {}\n");
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 2);
    CHECK(has(problems, "route GET /files/{path} is not documented"));
    CHECK(has(problems, "documented GET /other has no route"));
  }
  SECTION("documented with another method") {
    auto doc = common::yaml_to_json("paths:\n  /files/{path}:\n    put: {}\n");
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 2);
    CHECK(has(problems, "route GET /files/{path} is not documented"));
    CHECK(has(problems, "documented PUT /files/{path} has no route"));
  }
}

TEST_CASE("openapi: a document without paths is one problem plus every route", "[common][openapi]") {
  std::vector<common::Route> routes{route("GET", "/health")};
  auto problems = common::openapi_mismatches(routes, json::object{{"openapi", "3.1.0"}});
  CHECK(has(problems, "the document has no paths object"));
  CHECK(has(problems, "route GET /health is not documented"));
  CHECK(problems.size() == 2);

  CHECK(common::openapi_mismatches({}, json::object{{"paths", json::object{}}}).empty());
}
