#pragma once
// The two response styles of the API conventions, and pagination parameters.
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "common/http.hpp"

namespace common {

enum class ResponseStyle {
  Envelope,  // Panguard: {"ok":true,"data":...} / {"ok":false,"error":...,"code":...}
  Bare,      // Shardlyn: the resource itself / {"error":"..."}
};

struct PageRequest {
  std::int64_t page = 1;
  std::int64_t limit = 50;
  std::int64_t offset() const { return (page - 1) * limit; }
};

// Reads `page` and `limit_name` (limit or per_page): default 1 and 50, limit capped at 200,
// non-numeric or < 1 is ApiError 400 naming the parameter.
PageRequest parse_page(const Request& req, std::string_view limit_name = "limit");

// Panguard envelope.
Response envelope_ok(boost::json::value data, int status = 200);
Response envelope_page(boost::json::array items, std::int64_t total, const PageRequest& page);

// Shardlyn list shape: {"items":[...],"total":n,"page":p,"per_page":k}.
Response bare_page(boost::json::array items, std::int64_t total, const PageRequest& page);

// A Unix time as RFC 3339 ("2026-01-31T12:00:00Z"), or JSON null when absent.
boost::json::value rfc3339_or_null(const std::optional<std::int64_t>& unix_seconds);

// The error body in the given style.
Response error_response(ResponseStyle style, const ApiError& error);

struct Route;
// The error response of a request matched to `route` (nullptr: none): the route's own
// renderer when it has one, else the service's style.
Response error_response(const Route* route, ResponseStyle style, const ApiError& error);

}  // namespace common
