#include "common/input.hpp"

#include <algorithm>
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

// Decodes the UTF-8 sequence at s[i] and advances i; nullopt when it is malformed (bad lead
// byte, truncated, bad continuation, overlong, surrogate or beyond U+10FFFF).
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return std::nullopt;
  char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b >> 6) != 2) return std::nullopt;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += n;
  return cp;
}

// Characters that change how the text around them is shown without being visible themselves:
// the bidi embeddings, overrides and isolates ("Alice\u202Eevil" reads as "Aliceevil" mirrored),
// invisible spaces and joiners that make look-alike names, line and paragraph separators.
// ZWNJ/ZWJ (U+200C/D) stay: Persian names and emoji sequences need them.
bool hidden_format_character(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200B ||
         (cp >= 0x2028 && cp <= 0x2029) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF ||
         (cp >= 0xFFF9 && cp <= 0xFFFB);
}

}  // namespace

void check_text(std::string_view value, std::string_view what, Text rule) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < value.size(); ++length) {
    auto cp = next_code_point(value, i);
    if (!cp) fail(what, "must be valid UTF-8");
    if (*cp == 0) fail(what, "must not contain NUL bytes");
    if (rule.single_line && *cp >= 0x80 && *cp <= 0x9f) fail(what, "must not contain control characters");
    if (*cp < 0x20 || *cp == 0x7f) {
      if (rule.single_line || (*cp != '\n' && *cp != '\t' && *cp != '\r'))
        fail(what, "must not contain control characters");
    }
    if (rule.single_line && hidden_format_character(*cp))
      fail(what, fmt::format("must not contain invisible or bidirectional formatting characters (U+{:04X})",
                             static_cast<std::uint32_t>(*cp)));
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

bool boolean(const boost::json::object& body, std::string_view field) {
  auto value = optional_boolean(body, field);
  if (!value) fail(field, "is required (true or false)");
  return *value;
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

namespace {

bool accepts(const std::vector<std::string>& accepted, std::string_view name) {
  return std::find(accepted.begin(), accepted.end(), name) != accepted.end();
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

[[noreturn]] void refuse(std::string_view what, std::vector<std::string> unknown,
                         const std::vector<std::string>& accepted) {
  std::string message = fmt::format("unknown {}{} {}", what, unknown.size() == 1 ? "" : "s", quoted_list(unknown));
  message += accepted.empty() ? fmt::format(": this route takes no {}s", what)
                              : fmt::format(" (accepted: {})", fmt::join(accepted, ", "));
  throw ApiError::validation(message);
}

void collect_unknown(const boost::json::object& object, const std::vector<std::string>& accepted,
                     std::vector<std::string>& unknown) {
  for (const auto& member : object) {
    std::string_view key = member.key();
    if (!accepts(accepted, key) && !accepts(unknown, key)) unknown.emplace_back(key);
  }
}

}  // namespace

void refuse_unknown_fields(const boost::json::value& body, const std::vector<std::string>& accepted) {
  if (accepts(accepted, "*")) return;
  std::vector<std::string> unknown;
  if (body.is_object()) collect_unknown(body.get_object(), accepted, unknown);
  if (body.is_array())
    for (const auto& item : body.get_array())
      if (item.is_object()) collect_unknown(item.get_object(), accepted, unknown);
  if (!unknown.empty()) refuse("field", std::move(unknown), accepted);
}

void refuse_unknown_query(const Request& req, const std::vector<std::string>& accepted) {
  if (req.query.empty() || accepts(accepted, "*")) return;
  std::vector<std::string> unknown;
  std::string_view rest = req.query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto key = percent_decode(pair.substr(0, pair.find('=')), true);
    if (!key) throw ApiError::bad_request("a query parameter name has a malformed escape");
    if (!accepts(accepted, *key) && !accepts(unknown, *key)) unknown.push_back(std::move(*key));
  }
  if (!unknown.empty()) refuse("query parameter", std::move(unknown), accepted);
}

}  // namespace common::input
