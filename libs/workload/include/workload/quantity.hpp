#pragma once
// Resource quantities and durations as the spec writes them: memory/disk `512Mi`, `2Gi`, `1G` or
// bytes; cpu `0.5`, `2` or `500m`; durations `30s`, `5m`, `1h30m`, `250ms`.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace workload {

using Duration = std::chrono::milliseconds;

// Bytes from `512Mi`, `1.5Gi`, `100M`, `123` (binary suffixes Ki..Ti, decimal k/K..T); nullopt if malformed.
std::optional<std::int64_t> parse_bytes(std::string_view text);
// Millicores from `0.5`, `2`, `500m`; nullopt if malformed or not positive.
std::optional<std::int64_t> parse_millicores(std::string_view text);
// A sequence of number+unit (ms, s, m, h, d); nullopt if malformed.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest exact spelling: `512Mi`, `2Gi`, or plain bytes when no binary unit divides.
std::string format_bytes(std::int64_t bytes);
// `30s`, `5m`, `1h30m`, `250ms`: parse_duration(format_duration(d)) == d.
std::string format_duration(Duration d);

}  // namespace workload
