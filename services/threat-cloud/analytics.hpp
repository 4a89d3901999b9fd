#pragma once
// Aggregates over threat events for /api/query/*: time series, geography, trends and MITRE
// technique counts. Each call reads one snapshot.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/database.hpp"

namespace tc {

using EventCounts = std::vector<std::pair<std::string, std::int64_t>>;  // (key, events), largest first

// Which events an aggregate covers (bounds are canonical RFC 3339, inclusive).
struct EventScope {
  std::optional<std::string> since, until, attack_type;
};

struct SeriesBucket {
  std::string time;  // bucket start
  std::int64_t events = 0, sources = 0;
};

struct GeoGroup {
  std::string key;  // ISO 3166-1 alpha-2 code, or region name
  std::int64_t events = 0, unique_ips = 0;
  EventCounts top_attack_types;  // at most 5
};

struct GeoBreakdown {
  std::int64_t total = 0, unresolved = 0;  // unresolved: no country for the source
  std::vector<GeoGroup> countries, regions;
};

struct AttackTypeTrend {
  std::string attack_type;
  std::int64_t current = 0, previous = 0;
};

enum class Granularity { Hour, Day, Week };

class Analytics {
 public:
  explicit Analytics(store::Database& db) : db_(db) {}
  // Non-empty buckets only, ascending.
  std::vector<SeriesBucket> timeseries(Granularity granularity, const EventScope& scope) const;
  GeoBreakdown geo(const EventScope& scope) const;
  // Events per attack type in [previous_from, current_from) and [current_from, until].
  std::vector<AttackTypeTrend> trends(const std::string& previous_from, const std::string& current_from,
                                      const std::string& until) const;
  // Events per ATT&CK technique.
  EventCounts techniques(const EventScope& scope) const;

 private:
  store::Database& db_;
};

}  // namespace tc
