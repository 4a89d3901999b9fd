#include "http/fields.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/input.hpp"
#include "identity/fields.hpp"

namespace shardlyn::fields {

namespace in = common::input;

std::string email(const boost::json::object& body, std::string_view field) {
  std::string value = identity::normalized_email(in::text(body, field, {.min = 3, .max = 254}));
  if (!identity::valid_email(value))
    throw common::ApiError::validation("'" + std::string(field) + "' must be an email address");
  return value;
}

std::string new_password(const boost::json::object& body, std::string_view field) {
  return in::text(body, field, {.min = 8, .max = 128, .single_line = false});
}

std::string password(const boost::json::object& body, std::string_view field) {
  return in::text(body, field, {.min = 1, .max = 128, .single_line = false});
}

std::string token(const boost::json::object& body, std::string_view field) {
  std::string value = in::text(body, field, {.min = 1, .max = 512});
  bool ok = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~';
  });
  if (!ok) throw common::ApiError::validation("'" + std::string(field) + "' must be a token of URL-safe characters");
  return value;
}

std::string name(const boost::json::object& body, std::string_view field) {
  return in::text(body, field, {.min = 1, .max = 100});
}

std::optional<std::string> optional_name(const boost::json::object& body, std::string_view field) {
  return in::optional_text(body, field, {.min = 1, .max = 100});
}

std::string code(const boost::json::object& body, std::string_view field) {
  return in::text(body, field, {.min = 6, .max = 32});
}

common::PageRequest page(const common::Request& req) {
  auto per_page = req.query_param("per_page"), limit = req.query_param("limit");
  if (per_page && limit && *per_page != *limit)
    throw common::ApiError::validation("query parameters 'per_page' and 'limit' disagree; send one of them");
  return common::parse_page(req, limit && !per_page ? "limit" : "per_page");
}

std::string uuid_param(const common::Request& req, std::string_view name, std::string_view what) {
  std::string_view v = req.param(name);
  bool ok = v.size() == 36 && std::all_of(v.begin(), v.end(), [](char c) {
              return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
            });
  if (!ok) throw common::ApiError::not_found(std::string(what) + " not found");
  return std::string(v);
}

}  // namespace shardlyn::fields
