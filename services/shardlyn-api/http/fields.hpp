#pragma once
// Field rules of the Shardlyn API on top of common::input: each failure is a 400 naming the
// field and the rule.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/envelope.hpp"
#include "common/http.hpp"

namespace shardlyn::fields {

// An email address by identity::valid_email (at least 3 characters), in lower case.
std::string email(const boost::json::object& body, std::string_view field);
// A password to set: 8-128 characters.
std::string new_password(const boost::json::object& body, std::string_view field);
// A password to check: 1-128 characters.
std::string password(const boost::json::object& body, std::string_view field);
// An opaque token from a mail or an earlier response: 1-512 URL-safe characters.
std::string token(const boost::json::object& body, std::string_view field);
// A display name: 1-100 characters, single line.
std::string name(const boost::json::object& body, std::string_view field);
std::optional<std::string> optional_name(const boost::json::object& body, std::string_view field);
// A 6-digit TOTP code or a backup code: 6-32 characters.
std::string code(const boost::json::object& body, std::string_view field);
// A list's page: `page` and `per_page`, or `limit` as another name for per_page (400 when both
// are sent and differ).
common::PageRequest page(const common::Request& req);
// A UUID path parameter; anything else is a 404 (ids are opaque).
std::string uuid_param(const common::Request& req, std::string_view name, std::string_view what);

}  // namespace shardlyn::fields
