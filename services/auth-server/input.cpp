#include "input.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/error.hpp"
#include "common/input.hpp"
#include "identity/fields.hpp"

namespace auth::input {

namespace {

// The message style of common::input: "'field' rule".
[[noreturn]] void fail(std::string_view field, std::string_view rule) {
  throw common::ApiError::validation("'" + std::string(field) + "' " + std::string(rule));
}

common::input::Text secret_text(std::size_t min, std::size_t max) {
  return {.min = min, .max = max, .single_line = false};
}

}  // namespace

std::string required_string(const boost::json::object& body, std::string_view field, std::size_t max_chars) {
  return common::input::text(body, field, secret_text(1, max_chars));
}

std::optional<std::string> optional_string(const boost::json::object& body, std::string_view field,
                                           std::size_t max_chars) {
  return common::input::optional_text(body, field, secret_text(1, max_chars));
}

std::string email(const boost::json::object& body, std::string_view field) {
  std::string s = common::input::text(body, field, {.min = 1, .max = 254});
  if (!identity::valid_email(s)) fail(field, "must be a valid email address");
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string name(const boost::json::object& body, std::string_view field) {
  // Trimmed before the length rule applies, so the raw value has no upper bound here.
  std::string s = common::input::text(body, field, {.min = 0, .max = std::numeric_limits<std::size_t>::max()});
  auto first = s.find_first_not_of(' ');
  s = first == std::string::npos ? std::string() : s.substr(first, s.find_last_not_of(' ') - first + 1);
  common::input::check_text(s, field, {.min = 1, .max = 100});
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    // C1 controls U+0080..U+009F, encoded C2 80..C2 9F (C0 and DEL are refused by check_text)
    if (static_cast<unsigned char>(s[i]) == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      fail(field, "must not contain control characters");
  }
  return s;
}

std::string new_password(const boost::json::object& body, std::string_view field) {
  return common::input::text(body, field, secret_text(8, 128));
}

std::string password(const boost::json::object& body, std::string_view field) {
  return common::input::text(body, field, secret_text(1, 128));
}

std::string token(const boost::json::object& body, std::string_view field) {
  std::string s = common::input::text(body, field, {.min = 1, .max = 512});
  bool url_safe = std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~';
  });
  if (!url_safe) fail(field, "is not a valid token");
  return s;
}

}  // namespace auth::input
