#pragma once
// Reading query parameters with validation. Every reader throws ApiError 400
// (validation_error) whose message names the parameter and the rule; absent = nullopt.
// What common::input lacks: integers, text, one_of over a shared constant list, and
// timestamps in the canonical text form the store compares.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/http.hpp"

namespace tc::query {

std::optional<std::int64_t> integer(const common::Request& req, std::string_view name, std::int64_t min,
                                    std::int64_t max);
std::optional<std::string> one_of(const common::Request& req, std::string_view name,
                                  std::span<const std::string_view> allowed);
// Single-line text of 1..max characters.
std::optional<std::string> text(const common::Request& req, std::string_view name, std::size_t max);
// An RFC 3339 timestamp, returned in canonical UTC form ("2026-01-31T12:00:00Z").
std::optional<std::string> timestamp(const common::Request& req, std::string_view name);

}  // namespace tc::query
