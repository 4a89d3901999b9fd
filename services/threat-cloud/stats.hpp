#pragma once
// Aggregate numbers over the IoCs for /api/stats (one snapshot).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/database.hpp"

namespace tc {

struct IocStats {
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;  // (key, count), largest first
  std::int64_t total = 0;
  std::int64_t active = 0;
  Counts by_type, by_status;
  std::int64_t new_last_24h = 0;                           // IoCs first stored in the last 24 hours
  std::int64_t seen_last_24h = 0;                          // IoCs last seen in the last 24 hours
  std::int64_t sightings_last_24h = 0;                     // sighting reports in the last 24 hours
  Counts top_threat_types, top_techniques, top_countries;  // active IoCs, at most 10 each
  std::string generated_at;
  // Threat events (uploads and trap reports) and campaigns.
  struct Threats {
    std::int64_t total = 0, last_24h = 0, unique_sources = 0, active_campaigns = 0;
    Counts top_attack_types, top_techniques, top_regions;  // at most 10 each
  } threats;
};

class Stats {
 public:
  explicit Stats(store::Database& db) : db_(db) {}
  // Only TLP clear and green IoCs count when shareable_only (anonymous callers).
  IocStats compute(bool shareable_only) const;

 private:
  store::Database& db_;
};

}  // namespace tc
