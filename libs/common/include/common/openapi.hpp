#pragma once
// OpenAPI documents: YAML to JSON, and the check that a route table and a document agree.
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/router.hpp"

namespace common {

// Parses a YAML (or JSON) document into JSON. Plain scalars become numbers, booleans and
// null where YAML 1.2's core schema says so; quoted scalars stay strings.
// Throws std::runtime_error with the line on malformed YAML.
boost::json::value yaml_to_json(std::string_view yaml);

// Differences between routes and the document's paths, both directions, one line each
// ("route GET /x is not documented", "documented POST /y has no route"). Empty = agree.
std::vector<std::string> openapi_mismatches(const std::vector<Route>& routes, const boost::json::object& document);

}  // namespace common
