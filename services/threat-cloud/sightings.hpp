#pragma once
// Sightings: reports that an IoC was seen (positive), not seen where expected (negative) or is
// a false positive. Each adjusts the IoC in the same transaction:
//   positive:       sightings + 1, lastSeen = max(lastSeen, observedAt), confidence + 5,
//                   an expired IoC becomes active
//   negative:       confidence - 5
//   false_positive: confidence - 20, an active IoC goes under_review
// (confidence stays within 0..100).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit.hpp"
#include "iocs.hpp"
#include "store/database.hpp"

namespace tc {

inline constexpr std::array<std::string_view, 3> kSightingKinds{"positive", "negative", "false_positive"};

struct Sighting {
  std::string id;
  std::string ioc_id;
  std::string kind;
  std::string source;
  std::optional<std::string> note;
  std::string observed_at;
  std::string created_at;
  std::string reported_by;
};

struct NewSighting {
  std::string kind;
  std::string source;
  std::optional<std::string> note;
  std::optional<std::string> observed_at;  // canonical RFC 3339; default now
};

class Sightings {
 public:
  explicit Sightings(store::Database& db) : db_(db) {}
  // Records a sighting of the IoC with `ioc_id` and returns it with the updated IoC; nullopt
  // when there is no such IoC.
  std::optional<std::pair<Sighting, Ioc>> record(std::string_view ioc_id, const NewSighting& sighting, const Actor& by);
  // The IoC's sightings newest first, with the total; nullopt when there is no such IoC.
  std::optional<std::pair<std::vector<Sighting>, std::int64_t>> list(std::string_view ioc_id, std::int64_t limit,
                                                                     std::int64_t offset) const;

 private:
  store::Database& db_;
};

}  // namespace tc
