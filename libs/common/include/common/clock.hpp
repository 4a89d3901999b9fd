#pragma once
// Wall-clock helpers: RFC 3339 UTC timestamps and unix seconds.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common {

std::int64_t unix_seconds();
std::int64_t unix_millis();
// "2026-01-31T12:00:00Z" (millis adds ".123").
std::string rfc3339(std::chrono::system_clock::time_point tp, bool millis = false);
std::string rfc3339_now(bool millis = false);
std::string rfc3339_from_unix(std::int64_t seconds);
// Parses RFC 3339 with 'Z' or a numeric offset, optional fraction; nullopt when invalid.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace common
