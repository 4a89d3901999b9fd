#pragma once
// Public feed formats the importer reads: abuse.ch Feodo Tracker CSV, URLhaus CSV and text,
// ThreatFox CSV, Spamhaus DROP, ipsum, plain lists and STIX 2.1 bundles. Parsing is pure
// (text in, IoCs out) so it is unit-tested directly; a bad line is counted, never fatal.
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ioc_types.hpp"

namespace tc {

// What a format's publisher says about its data, the defaults of an import.
struct FeedFormat {
  std::string_view name;         // --format value
  std::string_view source;       // source name recorded on the IoCs
  std::string_view reliability;  // A-F
  std::string_view licence;
  bool redistribution;
  std::string_view url;
};
// The formats, in the order of the documentation.
const std::vector<FeedFormat>& feed_formats();
const FeedFormat* find_feed_format(std::string_view name);

struct ParsedIoc {
  Classified key;
  std::string value;  // as written in the feed
  std::string threat_type;
  std::vector<std::string> tags;
  std::optional<std::string> first_seen, last_seen;  // canonical RFC 3339
  std::optional<int> reputation, confidence;
};

struct ParseReport {
  std::int64_t lines = 0;           // lines read (STIX: objects)
  std::int64_t entries = 0;         // IoCs produced
  std::int64_t malformed = 0;       // lines or values that could not be read
  std::int64_t skipped = 0;         // comments, headers, objects without a supported pattern
  std::vector<std::string> errors;  // the first kMaxErrors problems, "line 12: ..."
  static constexpr std::size_t kMaxErrors = 20;
  void malformed_line(std::int64_t line, const std::string& why);
};

// Reads `in` as `format` (one of feed_formats()), calling `each` for every IoC.
ParseReport parse_feed(std::string_view format, std::istream& in, const std::function<void(ParsedIoc)>& each);

// "2024-10-14 08:51:07", "2024-10-14" or RFC 3339 as canonical RFC 3339 UTC; nullopt otherwise.
std::optional<std::string> feed_time(std::string_view text);
// The fields of one CSV line (RFC 4180 quotes; spaces around separators are dropped).
std::vector<std::string> csv_fields(std::string_view line);

}  // namespace tc
