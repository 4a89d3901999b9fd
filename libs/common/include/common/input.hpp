#pragma once
// Reading fields of a JSON request body with validation. Every accessor throws ApiError 400
// (code validation_error) whose message names the field and the rule it broke. Which fields
// and query parameters a request may carry at all is declared on its route (Route::fields,
// Route::query) and checked before the handler reads them (docs/decisions: unknown inputs).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/http.hpp"

namespace common::input {

struct Text {
  std::size_t min = 1;
  std::size_t max = 255;
  bool single_line = true;  // reject control characters (names, ids); free text allows \n and \t
};

std::string text(const boost::json::object& body, std::string_view field, Text rule = {});
std::optional<std::string> optional_text(const boost::json::object& body, std::string_view field, Text rule = {});

double number(const boost::json::object& body, std::string_view field, double min, double max);
std::optional<double> optional_number(const boost::json::object& body, std::string_view field, double min, double max);

std::int64_t integer(const boost::json::object& body, std::string_view field, std::int64_t min, std::int64_t max);
std::optional<std::int64_t> optional_integer(const boost::json::object& body, std::string_view field, std::int64_t min,
                                             std::int64_t max);

std::optional<bool> optional_boolean(const boost::json::object& body, std::string_view field);
// Required: for flags that decide what a request means (granted, allow, enabled ...), where a
// default would silently pick one meaning for a client that misspelt the name.
bool boolean(const boost::json::object& body, std::string_view field);

std::string one_of(const boost::json::object& body, std::string_view field,
                   std::initializer_list<std::string_view> allowed);
std::optional<std::string> optional_one_of(const boost::json::object& body, std::string_view field,
                                           std::initializer_list<std::string_view> allowed);

// An array of strings (absent = empty), at most max_items, each following `rule`.
std::vector<std::string> text_list(const boost::json::object& body, std::string_view field, std::size_t max_items,
                                   Text rule = {});

// An object-valued field (absent = nullopt); anything else is a validation error.
std::optional<boost::json::object> optional_object(const boost::json::object& body, std::string_view field);

// An RFC 3339 timestamp as unix seconds.
std::optional<std::int64_t> optional_timestamp(const boost::json::object& body, std::string_view field);

// Query parameters: absent = nullopt; present but invalid = ApiError 400 naming it.
std::optional<std::string> query_one_of(const Request& req, std::string_view name,
                                        std::initializer_list<std::string_view> allowed);
std::optional<std::string> query_one_of(const Request& req, std::string_view name,
                                        std::span<const std::string_view> allowed);
std::optional<std::int64_t> query_integer(const Request& req, std::string_view name, std::int64_t min,
                                          std::int64_t max);
// Single-line text of 1..max characters.
std::optional<std::string> query_text(const Request& req, std::string_view name, std::size_t max);
std::optional<std::int64_t> query_timestamp(const Request& req, std::string_view name);
// The same timestamp in canonical UTC text ("2026-01-31T12:00:00Z"), the form stores compare.
std::optional<std::string> query_timestamp_text(const Request& req, std::string_view name);

// ApiError 400 naming every member of `body` (or of each object in an array body) that is not
// in `accepted`; {"*"} accepts any. The pipeline runs these with the route's declaration.
void refuse_unknown_fields(const boost::json::value& body, const std::vector<std::string>& accepted);
void refuse_unknown_query(const Request& req, const std::vector<std::string>& accepted);

// Checks a string against a Text rule (also for query parameters); `what` names it in errors.
void check_text(std::string_view value, std::string_view what, Text rule);

}  // namespace common::input
