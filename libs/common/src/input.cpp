#include "common/input.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace common::input {

namespace {

[[noreturn]] void fail(std::string_view field, std::string_view rule) {
  throw ApiError::validation(fmt::format("'{}' {}", field, rule));
}

const boost::json::value* find(const boost::json::object& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

// Counts UTF-8 code points; false when the bytes are not valid UTF-8.
bool utf8_length(std::string_view s, std::size_t& length) {
  length = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
    ++length;
  }
  return true;
}

}  // namespace

void check_text(std::string_view value, std::string_view what, Text rule) {
  std::size_t length = 0;
  if (!utf8_length(value, length)) fail(what, "must be valid UTF-8");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) fail(what, "must not contain NUL bytes");
    if (u < 0x20 || u == 0x7f) {
      if (rule.single_line || (c != '\n' && c != '\t' && c != '\r')) fail(what, "must not contain control characters");
    }
  }
  if (length < rule.min || length > rule.max)
    fail(what, rule.min == rule.max ? fmt::format("must be {} characters long", rule.min)
                                    : fmt::format("must be {} to {} characters long", rule.min, rule.max));
}

std::optional<std::string> optional_text(const boost::json::object& body, std::string_view field, Text rule) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(field, "must be a string");
  std::string value(v->as_string());
  check_text(value, field, rule);
  return value;
}

std::string text(const boost::json::object& body, std::string_view field, Text rule) {
  auto value = optional_text(body, field, rule);
  if (!value) fail(field, "is required");
  return *value;
}

std::optional<double> optional_number(const boost::json::object& body, std::string_view field, double min, double max) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail(field, "must be a number");
  double d = v->to_number<double>();
  if (!std::isfinite(d) || d < min || d > max) fail(field, fmt::format("must be between {} and {}", min, max));
  return d;
}

double number(const boost::json::object& body, std::string_view field, double min, double max) {
  auto value = optional_number(body, field, min, max);
  if (!value) fail(field, "is required");
  return *value;
}

std::optional<std::int64_t> optional_integer(const boost::json::object& body, std::string_view field, std::int64_t min,
                                             std::int64_t max) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  std::int64_t i = 0;
  if (v->is_int64())
    i = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    i = static_cast<std::int64_t>(v->as_uint64());
  else if (v->is_double() && std::trunc(v->as_double()) == v->as_double() && std::fabs(v->as_double()) < 9e15)
    i = static_cast<std::int64_t>(v->as_double());
  else
    fail(field, "must be a whole number");
  if (i < min || i > max) fail(field, fmt::format("must be between {} and {}", min, max));
  return i;
}

std::int64_t integer(const boost::json::object& body, std::string_view field, std::int64_t min, std::int64_t max) {
  auto value = optional_integer(body, field, min, max);
  if (!value) fail(field, "is required");
  return *value;
}

std::optional<bool> optional_boolean(const boost::json::object& body, std::string_view field) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (!v->is_bool()) fail(field, "must be true or false");
  return v->as_bool();
}

std::optional<std::string> optional_one_of(const boost::json::object& body, std::string_view field,
                                           std::initializer_list<std::string_view> allowed) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (v->is_string())
    for (auto a : allowed)
      if (v->as_string() == a) return std::string(a);
  fail(field, fmt::format("must be one of: {}", fmt::join(allowed, ", ")));
}

std::string one_of(const boost::json::object& body, std::string_view field,
                   std::initializer_list<std::string_view> allowed) {
  auto value = optional_one_of(body, field, allowed);
  if (!value) fail(field, "is required");
  return *value;
}

std::vector<std::string> text_list(const boost::json::object& body, std::string_view field, std::size_t max_items,
                                   Text rule) {
  std::vector<std::string> out;
  const auto* v = find(body, field);
  if (!v) return out;
  if (!v->is_array()) fail(field, "must be an array of strings");
  const auto& array = v->as_array();
  if (array.size() > max_items) fail(field, fmt::format("must have at most {} items", max_items));
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) fail(field, "must be an array of strings");
    std::string item(array[i].as_string());
    check_text(item, fmt::format("{}[{}]", field, i), rule);
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<boost::json::object> optional_object(const boost::json::object& body, std::string_view field) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (!v->is_object()) fail(field, "must be an object");
  return v->as_object();
}

std::optional<std::int64_t> optional_timestamp(const boost::json::object& body, std::string_view field) {
  const auto* v = find(body, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(field, "must be an RFC 3339 timestamp string");
  auto t = parse_rfc3339(v->as_string());
  if (!t) fail(field, "must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z");
  return t;
}

std::optional<std::string> query_one_of(const Request& req, std::string_view name,
                                        std::initializer_list<std::string_view> allowed) {
  return query_one_of(req, name, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

std::optional<std::string> query_one_of(const Request& req, std::string_view name,
                                        std::span<const std::string_view> allowed) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  for (auto a : allowed)
    if (*v == a) return v;
  throw ApiError::validation(fmt::format("query parameter '{}' must be one of: {}", name, fmt::join(allowed, ", ")));
}

std::optional<std::int64_t> query_integer(const Request& req, std::string_view name, std::int64_t min,
                                          std::int64_t max) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || n < min || n > max)
    throw ApiError::validation(
        fmt::format("query parameter '{}' must be a whole number between {} and {}", name, min, max));
  return n;
}

std::optional<std::string> query_text(const Request& req, std::string_view name, std::size_t max) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  check_text(*v, fmt::format("query parameter {}", name), {.min = 1, .max = max});
  return v;
}

std::optional<std::int64_t> query_timestamp(const Request& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  auto t = parse_rfc3339(*v);
  if (!t) throw ApiError::validation(fmt::format("query parameter '{}' must be an RFC 3339 timestamp", name));
  return t;
}

std::optional<std::string> query_timestamp_text(const Request& req, std::string_view name) {
  auto t = query_timestamp(req, name);
  return t ? std::optional(rfc3339_from_unix(*t)) : std::nullopt;
}

}  // namespace common::input
