#pragma once
// Wall-clock helpers for timestamps stored in the database.
#include <cstdint>
#include <string>

namespace store {

// Current UTC time as RFC 3339 with whole seconds, e.g. "2024-05-01T12:34:56Z".
std::string now_rfc3339();
// Current UTC time in whole seconds since the Unix epoch.
std::int64_t unix_now();

}  // namespace store
