#include "query.hpp"

#include <algorithm>
#include <charconv>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"

namespace tc::query {

namespace {

[[noreturn]] void fail(std::string_view name, const std::string& rule) {
  throw common::ApiError::validation("query parameter '" + std::string(name) + "' " + rule);
}

}  // namespace

std::optional<std::int64_t> integer(const common::Request& req, std::string_view name, std::int64_t min,
                                    std::int64_t max) {
  auto raw = req.query_param(name);
  if (!raw) return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), n);
  if (raw->empty() || ec != std::errc() || ptr != raw->data() + raw->size() || n < min || n > max)
    fail(name, "must be a whole number between " + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

std::optional<std::string> one_of(const common::Request& req, std::string_view name,
                                  std::span<const std::string_view> allowed) {
  auto raw = req.query_param(name);
  if (!raw) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *raw) == allowed.end()) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    fail(name, "must be one of: " + list);
  }
  return raw;
}

std::optional<std::string> text(const common::Request& req, std::string_view name, std::size_t max) {
  auto raw = req.query_param(name);
  if (!raw) return std::nullopt;
  common::input::check_text(*raw, "query parameter " + std::string(name), {.min = 1, .max = max});
  return raw;
}

std::optional<std::string> timestamp(const common::Request& req, std::string_view name) {
  auto t = common::input::query_timestamp(req, name);
  return t ? std::optional(common::rfc3339_from_unix(*t)) : std::nullopt;
}

}  // namespace tc::query
