// Spec and egg parsers on arbitrary bytes: SpecError is the only way out, and whatever parses
// exports and parses again to the same records.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "workload/egg.hpp"
#include "workload/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto w = workload::parse_workload(text);
    if (!(workload::parse_workload(workload::to_yaml(w)) == w)) std::abort();
  } catch (const workload::SpecError&) {
  }
  try {
    auto egg = workload::import_egg(text);
    if (!(workload::parse_workload(workload::to_json_text(egg.workload)) == egg.workload)) std::abort();
  } catch (const workload::SpecError&) {
  }
  return 0;
}
