#include "workload/quantity.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace workload {

namespace {

// A non-negative decimal number at the start of `text`; advances `text` past it.
std::optional<double> leading_number(std::string_view& text) {
  std::size_t n = 0;
  bool dot = false;
  while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || (text[n] == '.' && !dot))) {
    dot = dot || text[n] == '.';
    ++n;
  }
  if (n == 0 || text[0] == '.' || text[n - 1] == '.') return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + n, value);
  if (ec != std::errc() || ptr != text.data() + n) return std::nullopt;
  text.remove_prefix(n);
  return value;
}

// Rounds to an integer, refusing what an int64 cannot hold.
std::optional<std::int64_t> to_int64(double value) {
  if (!std::isfinite(value) || value < 0 || value >= 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(value));
}

}  // namespace

std::optional<std::int64_t> parse_bytes(std::string_view text) {
  auto number = leading_number(text);
  if (!number) return std::nullopt;
  static const std::pair<std::string_view, double> kUnits[] = {
      {"", 1},    {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"k", 1e3}, {"K", 1e3},     {"M", 1e6},        {"G", 1e9},           {"T", 1e12},
  };
  for (const auto& [suffix, factor] : kUnits) {
    if (text == suffix) return to_int64(*number * factor);
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_millicores(std::string_view text) {
  auto number = leading_number(text);
  if (!number) return std::nullopt;
  double millis = 0;
  if (text.empty()) {
    millis = *number * 1000;
  } else if (text == "m") {
    millis = *number;
  } else {
    return std::nullopt;
  }
  auto result = to_int64(millis);
  if (!result || *result <= 0) return std::nullopt;
  return result;
}

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    auto number = leading_number(text);
    if (!number) return std::nullopt;
    double factor = 0;
    // "ms" before "m": the longer unit wins.
    if (text.starts_with("ms"))
      factor = 1, text.remove_prefix(2);
    else if (text.starts_with("s"))
      factor = 1e3, text.remove_prefix(1);
    else if (text.starts_with("m"))
      factor = 60e3, text.remove_prefix(1);
    else if (text.starts_with("h"))
      factor = 3600e3, text.remove_prefix(1);
    else if (text.starts_with("d"))
      factor = 86400e3, text.remove_prefix(1);
    else
      return std::nullopt;
    total_ms += *number * factor;
  }
  auto ms = to_int64(total_ms);
  if (!ms) return std::nullopt;
  return Duration(*ms);
}

std::string format_bytes(std::int64_t bytes) {
  static const std::pair<const char*, std::int64_t> kUnits[] = {
      {"Ti", 1LL << 40}, {"Gi", 1LL << 30}, {"Mi", 1LL << 20}, {"Ki", 1LL << 10}};
  for (const auto& [suffix, factor] : kUnits) {
    if (bytes != 0 && bytes % factor == 0) return std::to_string(bytes / factor) + suffix;
  }
  return std::to_string(bytes);
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  static const std::pair<const char*, std::int64_t> kUnits[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  for (const auto& [suffix, factor] : kUnits) {
    if (ms >= factor) {
      out += std::to_string(ms / factor) + suffix;
      ms %= factor;
    }
  }
  return out;
}

}  // namespace workload
