#include "reputation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"

namespace tc {

namespace {

constexpr std::int64_t kBatch = 5000;

constexpr std::string_view kBatchRows =
    "SELECT rowid, id, threat_type, confidence, sightings, last_seen, reputation, "
    "(SELECT count(*) FROM sightings s WHERE s.ioc_id = iocs.id AND s.kind = 'false_positive'), "
    "(SELECT count(DISTINCT s.source) FROM sightings s WHERE s.ioc_id = iocs.id AND s.kind = 'positive' "
    "AND s.source != iocs.source) "
    "FROM iocs WHERE rowid > ? AND status IN ('active', 'under_review') ORDER BY rowid LIMIT ?";
constexpr std::string_view kUpdate = "UPDATE iocs SET reputation = ?, updated_at = ? WHERE id = ?";

struct Severity {
  std::string_view threat_type;
  int severity;
};
constexpr std::array<Severity, 16> kSeverities{{
    {"botnet_cc", 100},
    {"c2", 100},
    {"ransomware", 100},
    {"hijacked_netblock", 100},
    {"malware", 80},
    {"malware_download", 80},
    {"payload_delivery", 80},
    {"exploit", 80},
    {"phishing", 80},
    {"scanner", 60},
    {"bruteforce", 60},
    {"brute_force", 60},
    {"spam", 60},
    {"blacklisted", 60},
    {"unknown", 50},
    {"", 50},
}};

}  // namespace

int threat_severity(std::string_view threat_type) {
  for (const auto& s : kSeverities)
    if (s.threat_type == threat_type) return s.severity;
  return 60;
}

int reputation_score(const ReputationInputs& in) {
  double severity = threat_severity(in.threat_type) / 100.0;
  double confidence = std::clamp(in.confidence, 0, 100) / 100.0;
  double corroboration = 1.0 - std::exp(-static_cast<double>(std::max<std::int64_t>(in.reports, 0)) / 4.0);
  double sources = std::min(1.0, static_cast<double>(std::max<std::int64_t>(in.distinct_sources, 0)) / 3.0);
  double base = 0.40 * severity + 0.30 * confidence + 0.15 * corroboration + 0.15 * sources;
  double recency = std::pow(0.5, std::max(0.0, in.days_since_seen) / kReputationHalfLifeDays);
  double doubt = std::pow(0.5, static_cast<double>(std::max<std::int64_t>(in.false_positives, 0)));
  return std::clamp(static_cast<int>(std::lround(100.0 * base * recency * doubt)), 0, 100);
}

std::int64_t ReputationJob::run() {
  std::int64_t changed = 0;
  std::int64_t after = 0;
  while (true) {
    // The block may run again on PostgreSQL (a serialization failure): it only returns counts.
    auto [rows, last, updated] = db_.write([&](store::Connection& c) {
      struct Change {
        std::string id;
        int reputation;
      };
      std::vector<Change> changes;
      std::int64_t seen = 0, last_rowid = after;
      const auto now = common::unix_seconds();
      {
        auto q = c.prepare(kBatchRows);
        q->bind_all(after, kBatch);
        while (q->step()) {
          ++seen;
          last_rowid = q->int64(0);
          std::string threat = q->text(2);
          auto last_seen = common::parse_rfc3339(q->text(5)).value_or(now);
          ReputationInputs in{.threat_type = threat,
                              .confidence = static_cast<int>(q->int64(3)),
                              .reports = q->int64(4),  // uploads and positive sightings
                              .distinct_sources = 1 + q->int64(8),
                              .false_positives = q->int64(7),
                              .days_since_seen = static_cast<double>(now - last_seen) / 86400.0};
          int score = reputation_score(in);
          if (score != q->int64(6)) changes.push_back({q->text(1), score});
        }
      }
      std::string stamp = common::rfc3339_now();
      for (const auto& ch : changes) c.execute(kUpdate, ch.reputation, stamp, ch.id);
      return std::tuple{seen, last_rowid, static_cast<std::int64_t>(changes.size())};
    });
    changed += updated;
    if (rows < kBatch) break;
    after = last;
  }
  return changed;
}

}  // namespace tc
