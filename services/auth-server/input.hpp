#pragma once
// The auth-server's field rules (email, name, passwords, tokens), built on common::input:
// every failure is ApiError 400 validation_error naming the field and the rule; unknown
// fields are ignored.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace auth::input {

// A string field: present, 1..max_chars characters (code points), no NUL or control
// characters other than tab and line breaks.
std::string required_string(const boost::json::object& body, std::string_view field, std::size_t max_chars);

// Same, but nullopt when absent or null.
std::optional<std::string> optional_string(const boost::json::object& body, std::string_view field,
                                           std::size_t max_chars);

// An email address (at most 254 characters, one '@', a dotted domain), returned in lower case.
std::string email(const boost::json::object& body, std::string_view field);

// A display name: 1-100 characters after trimming spaces, no control characters (C0 or C1).
std::string name(const boost::json::object& body, std::string_view field);

// A password to set: 8-128 characters.
std::string new_password(const boost::json::object& body, std::string_view field);

// A password to check: present, at most 128 characters.
std::string password(const boost::json::object& body, std::string_view field);

// An opaque token from a mail or an earlier response: 1-512 URL-safe characters.
std::string token(const boost::json::object& body, std::string_view field);

}  // namespace auth::input
