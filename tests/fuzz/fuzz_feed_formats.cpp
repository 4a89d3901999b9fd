// Fuzzes the feed-file parsers of `threat-cloud import` (the first byte picks the format, the
// rest is the file) and the STIX pattern reader: whatever a feed holds, parsing counts lines
// and never crashes, and every IoC it yields is a valid one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "feed_formats.hpp"
#include "ioc_types.hpp"
#include "stix.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& formats = tc::feed_formats();
  const auto& format = formats[data[0] % formats.size()];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::istringstream in(text);
  std::int64_t yielded = 0;
  auto report = tc::parse_feed(format.name, in, [&](tc::ParsedIoc ioc) {
    ++yielded;
    // What the parser hands over must survive normalisation again unchanged.
    auto again = tc::normalize(ioc.key.type, ioc.key.normalized);
    if (!again || *again != ioc.key.normalized) std::abort();
  });
  if (report.entries != yielded || report.errors.size() > tc::ParseReport::kMaxErrors) std::abort();
  for (const auto& v : tc::stix::pattern_values(text))
    if (auto n = tc::normalize(v.type, v.value)) (void)tc::stix::pattern(v.type, *n);
  return 0;
}
