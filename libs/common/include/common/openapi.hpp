#pragma once
// OpenAPI documents: YAML to JSON, and the check that a route table and a document agree.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "common/router.hpp"

namespace common {

// Parses a YAML (or JSON) document into JSON. Plain scalars become numbers, booleans and
// null where YAML 1.2's core schema says so; quoted scalars stay strings.
// Throws std::runtime_error with the line on malformed YAML.
boost::json::value yaml_to_json(std::string_view yaml);

// Differences between routes and the document's paths, both directions, one line each
// ("route GET /x is not documented", "documented POST /y has no route"). For a documented
// route also its declared inputs (Route::query, Route::fields) against the operation's query
// parameters and request-body members ({"*"} skips that comparison), both ways. Empty = agree.
std::vector<std::string> openapi_mismatches(const std::vector<Route>& routes, const boost::json::object& document);

// What a request body's nested objects may hold, from the operation's request-body schema
// (decision 0023): an object whose schema says additionalProperties: false is closed.
struct BodyShape {
  bool closed = false;  // members not named below are refused
  std::vector<std::pair<std::string, std::shared_ptr<const BodyShape>>> members;  // sorted; null = not checked
  std::shared_ptr<const BodyShape> items;  // the elements of an array
};

// Per documented operation (METHOD, OpenAPI path) whose request body has a closed nested object
// somewhere, the shape of that body's top-level objects (the top level itself stays with
// Route::fields). Operations without one are absent.
std::map<std::pair<std::string, std::string>, std::shared_ptr<const BodyShape>> openapi_body_shapes(
    const boost::json::object& document);

// ApiError 400 validation_error naming each member of a closed nested object that its shape
// does not name, by path: "unknown field 'settings.foo' (accepted: settings.locale, ...)".
// An array body is checked item by item.
void refuse_unknown_nested(const boost::json::value& body, const BodyShape& shape);

}  // namespace common
