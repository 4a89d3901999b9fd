#include "common/openapi.hpp"

#include "common/error.hpp"

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

namespace {

common::Route with_inputs(std::string method, std::string path, std::vector<std::string> fields,
                          std::vector<std::string> query) {
  auto r = route(std::move(method), std::move(path));
  r.fields = std::move(fields);
  r.query = std::move(query);
  return r;
}

const char* kInputsDocument = R"(
paths:
  /v1/members/{id}/permissions:
    parameters:
      - {name: id, in: path}
      - {$ref: "#/components/parameters/Dry"}
    post:
      parameters:
        - {name: X-Organization-Id, in: header}
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Grant"}
  /v1/users:
    get:
      parameters:
        - {name: q, in: query}
        - {name: page, in: query}
  /v1/events:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: array, items: {allOf: [{$ref: "#/components/schemas/Base"}, {properties: {kind: {}}}]}}
  /v1/hooks:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object}
components:
  parameters:
    Dry: {name: dry_run, in: query}
  schemas:
    Grant:
      type: object
      additionalProperties: false
      properties: {permission: {type: string}, granted: {type: boolean}}
    Base:
      properties: {at: {}, agent: {}}
)";

}  // namespace

TEST_CASE("openapi: declared inputs that match the document pass", "[common][openapi]") {
  std::vector<common::Route> routes{
      with_inputs("POST", "/v1/members/{id}/permissions", {"granted", "permission"}, {"dry_run"}),
      with_inputs("GET", "/v1/users", {}, {"page", "q"}),
      with_inputs("POST", "/v1/events", {"agent", "at", "kind"}, {}),
      with_inputs("POST", "/v1/hooks", {"*"}, {})};
  auto doc = common::yaml_to_json(kInputsDocument);
  auto problems = common::openapi_mismatches(routes, doc.as_object());
  INFO((problems.empty() ? std::string() : problems.front()));
  CHECK(problems.empty());
}

TEST_CASE("openapi: a declared input the document lacks, or the reverse, is a mismatch", "[common][openapi]") {
  auto doc = common::yaml_to_json(kInputsDocument);
  SECTION("a field the document does not describe, and a documented one the route refuses") {
    std::vector<common::Route> routes{
        with_inputs("POST", "/v1/members/{id}/permissions", {"allow", "permission"}, {"dry_run"}),
        with_inputs("GET", "/v1/users", {}, {"page", "q"}),
        with_inputs("POST", "/v1/events", {"agent", "at", "kind"}, {}),
        with_inputs("POST", "/v1/hooks", {"*"}, {})};
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 2);
    CHECK(has(problems,
              "route POST /v1/members/{id}/permissions accepts field 'allow' the document does not describe"));
    CHECK(has(problems,
              "documented field 'granted' of POST /v1/members/{id}/permissions not accepted by the route"));
  }
  SECTION("query parameters, from the operation and from the path item (through a $ref)") {
    std::vector<common::Route> routes{
        with_inputs("POST", "/v1/members/{id}/permissions", {"granted", "permission"}, {}),
        with_inputs("GET", "/v1/users", {}, {"page", "per_page", "search"}),
        with_inputs("POST", "/v1/events", {"agent", "at", "kind"}, {}),
        with_inputs("POST", "/v1/hooks", {"*"}, {})};
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 3);
    CHECK(has(problems, "documented query parameter 'dry_run' of POST /v1/members/{id}/permissions not "
                        "accepted by the route"));
    CHECK(has(problems, "route GET /v1/users accepts query parameters 'per_page', 'search' the document does "
                        "not describe"));
    CHECK(has(problems, "documented query parameter 'q' of GET /v1/users not accepted by the route"));
  }
  SECTION("members of an array body's items, through allOf") {
    std::vector<common::Route> routes{
        with_inputs("POST", "/v1/members/{id}/permissions", {"granted", "permission"}, {"dry_run"}),
        with_inputs("GET", "/v1/users", {}, {"page", "q"}),
        with_inputs("POST", "/v1/events", {"at", "kind"}, {}),
        with_inputs("POST", "/v1/hooks", {"*"}, {})};
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 1);
    CHECK(has(problems, "documented field 'agent' of POST /v1/events not accepted by the route"));
  }
  SECTION("a free-form documented body against a route that names its fields") {
    std::vector<common::Route> routes{
        with_inputs("POST", "/v1/members/{id}/permissions", {"granted", "permission"}, {"dry_run"}),
        with_inputs("GET", "/v1/users", {}, {"page", "q"}),
        with_inputs("POST", "/v1/events", {"agent", "at", "kind"}, {}),
        with_inputs("POST", "/v1/hooks", {"url"}, {})};
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 2);
    CHECK(has(problems, "route POST /v1/hooks accepts field 'url' the document does not describe"));
    CHECK(has(problems, "the document lets POST /v1/hooks take any body member, the route only 'url' (close the "
                        "schema: additionalProperties: false)"));
  }
  SECTION("a route that takes nothing against a documented body") {
    std::vector<common::Route> routes{
        with_inputs("POST", "/v1/members/{id}/permissions", {}, {"dry_run"}),
        with_inputs("GET", "/v1/users", {}, {"page", "q"}),
        with_inputs("POST", "/v1/events", {"agent", "at", "kind"}, {}),
        with_inputs("POST", "/v1/hooks", {"*"}, {})};
    auto problems = common::openapi_mismatches(routes, doc.as_object());
    CHECK(problems.size() == 1);
    CHECK(has(problems, "documented fields 'granted', 'permission' of POST /v1/members/{id}/permissions not "
                        "accepted by the route"));
  }
}

TEST_CASE("openapi: a broken $ref describes nothing rather than failing", "[common][openapi]") {
  auto doc = common::yaml_to_json(R"(
paths:
  /x:
    post:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Missing"}}}}
)");
  std::vector<common::Route> routes{with_inputs("POST", "/x", {"a"}, {})};
  auto problems = common::openapi_mismatches(routes, doc.as_object());
  CHECK(problems.size() == 1);
  CHECK(has(problems, "route POST /x accepts field 'a' the document does not describe"));
}

namespace {

const char* kNestedDocument = R"(
paths:
  /v1/settings:
    put:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string}
                settings: {$ref: "#/components/schemas/Settings"}
                labels: {type: object}
                rules:
                  type: array
                  items:
                    allOf:
                      - {properties: {id: {}}, additionalProperties: false}
                      - {properties: {match: {type: object, additionalProperties: false, properties: {ip: {}}}},
                         additionalProperties: false}
  /v1/batch:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: array, items: {properties: {event: {$ref: "#/components/schemas/Settings"}}}}
  /v1/open:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {metadata: {type: object, properties: {a: {}}}}}
components:
  schemas:
    Settings:
      type: object
      additionalProperties: false
      properties: {locale: {type: string}, theme: {type: string}}
)";

void refuse(const common::BodyShape& shape, const char* body) { common::refuse_unknown_nested(json::parse(body), shape); }

}  // namespace

TEST_CASE("openapi: nested objects the document closes refuse unknown members by path", "[common][openapi]") {
  auto shapes = common::openapi_body_shapes(common::yaml_to_json(kNestedDocument).as_object());
  REQUIRE(shapes.count({"PUT", "/v1/settings"}));
  REQUIRE(shapes.count({"POST", "/v1/batch"}));
  CHECK_FALSE(shapes.count({"POST", "/v1/open"}));  // nothing closed: nothing to check
  const auto& settings = *shapes.at({"PUT", "/v1/settings"});

  CHECK_NOTHROW(refuse(settings, R"({"name": "x", "settings": {"locale": "de"}, "labels": {"any": 1},
                                     "rules": [{"id": 1, "match": {"ip": "10.0.0.1"}}], "unknown_top": 1})"));
  CHECK_THROWS_WITH(refuse(settings, R"({"settings": {"locale": "de", "foo": 1}})"),
                    "unknown field 'settings.foo' (accepted: settings.locale, settings.theme)");
  CHECK_THROWS_WITH(refuse(settings, R"({"rules": [{"id": 1}, {"id": 2, "match": {"ip": "x", "port": 22}}]})"),
                    "unknown field 'rules[1].match.port' (accepted: rules[1].match.ip)");
  CHECK_THROWS_WITH(refuse(settings, R"({"rules": [{"id": 1, "note": "x"}]})"),
                    "unknown field 'rules[0].note' (accepted: rules[0].id, rules[0].match)");
  try {
    refuse(settings, R"({"settings": {"a": 1, "b": 2}})");
    FAIL("not refused");
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 400);
    CHECK(std::string(e.what()).starts_with("unknown fields 'settings.a', 'settings.b'"));
  }
  // An array body: each item's nested objects.
  const auto& batch = *shapes.at({"POST", "/v1/batch"});
  CHECK_NOTHROW(refuse(batch, R"([{"event": {"theme": "dark"}}, {"other": 1}])"));
  CHECK_THROWS_WITH(refuse(batch, R"([{"event": {"theme": "dark"}}, {"event": {"colour": "red"}}])"),
                    "unknown field 'event.colour' (accepted: event.locale, event.theme)");
  // Values of another type than the schema's are the handler's to refuse, not this check's.
  CHECK_NOTHROW(refuse(settings, R"({"settings": "text", "rules": {"id": 1}})"));
}

TEST_CASE("openapi: Request::json() applies the shape registered for its route", "[common][openapi]") {
  auto shapes = common::openapi_body_shapes(common::yaml_to_json(kNestedDocument).as_object());
  auto settings = with_inputs("PUT", "/v1/settings", {"name", "settings"}, {});
  auto other = with_inputs("PUT", "/v1/other", {"name", "settings"}, {});
  settings.body_shape = shapes.at({"PUT", "/v1/settings"});
  common::Request req;
  req.headers.add("Content-Type", "application/json");
  req.body = R"({"name": "x", "settings": {"locale": "de", "colour": "red"}})";
  req.route = &settings;
  CHECK_THROWS_WITH(req.json(), "unknown field 'settings.colour' (accepted: settings.locale, settings.theme)");
  req.route = &other;  // no shape registered: only the top level is checked
  CHECK_NOTHROW(req.json());
  req.body = R"({"nmae": "x"})";
  CHECK_THROWS_WITH(req.json(), Catch::Contains("unknown field 'nmae'"));
  settings.body_shape = nullptr;
  req.route = &settings;
  req.body = R"({"settings": {"colour": "red"}})";
  CHECK_NOTHROW(req.json());
}
