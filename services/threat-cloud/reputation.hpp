#pragma once
// Reputation (0-100, higher = more malicious), recomputed by a background job from what is
// known about an IoC: severity of its threat type, confidence, how often and by how many
// distinct sources it was reported, false-positive reports, and how recently it was seen
// (a 30-day half-life).
#include <cstdint>
#include <string_view>

#include "store/database.hpp"

namespace tc {

inline constexpr double kReputationHalfLifeDays = 30.0;

struct ReputationInputs {
  std::string_view threat_type;
  int confidence = 50;                // 0-100
  std::int64_t reports = 1;           // uploads of the IoC plus positive sightings
  std::int64_t distinct_sources = 1;  // its source plus other sources of positive sightings
  std::int64_t false_positives = 0;   // false_positive sightings
  double days_since_seen = 0;         // now - last seen
};

// Severity of a threat type, 0-100: command and control, ransomware, hijacked netblocks 100;
// malware delivery, exploits, phishing 80; scanners, brute force, spam, blacklists 60;
// unknown 50; anything else 60.
int threat_severity(std::string_view threat_type);

// round(100 * (0.40 severity + 0.30 confidence + 0.15 corroboration + 0.15 sources)
//        * 0.5^(days / 30) * 0.5^false_positives), clamped to 0-100, where corroboration is
// 1 - e^(-reports / 4) and sources is min(1, distinct_sources / 3).
int reputation_score(const ReputationInputs& in);

class ReputationJob {
 public:
  explicit ReputationJob(store::Database& db) : db_(db) {}
  // Recomputes every active or under-review IoC in batches (one transaction each); returns how many changed.
  std::int64_t run();

 private:
  store::Database& db_;
};

}  // namespace tc
