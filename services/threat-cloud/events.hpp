#pragma once
// Threat events: community uploads (POST /api/threats) and honeypot reports (POST
// /api/trap-intel). Each accepted event, in the same transaction:
//   - is stored once (duplicates by event hash are counted and dropped),
//   - makes its source address an ip IoC or updates it (sightings + 1, lastSeen = max,
//     confidence + 5, reputation raised to the event's severity, expired -> active) and
//     records a positive sighting of it,
//   - does the same for the further IoCs a trap report names (hashes, URLs, domains).
// Uploads may be anonymised: the source becomes its /16 (IPv4) or /48 (IPv6) network address.
// The event hash covers every stored field and, for trap reports, the IoCs the report names.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "ioc_types.hpp"
#include "store/database.hpp"

namespace tc {

class GeoIp;

inline constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
// 0 (low) .. 3 (critical); -1 for anything else.
int severity_rank(std::string_view severity);

enum class EventOrigin { Upload, Trap };

// One validated event.
struct EventSubmission {
  std::string source_ip;                // canonical address as reported
  std::string attack_type;              // lower case
  std::vector<std::string> techniques;  // ATT&CK ids, sorted, distinct
  std::optional<std::string> sigma_rule;
  std::string severity = "medium";
  std::string region;
  std::optional<std::string> industry;
  std::string occurred_at;               // canonical RFC 3339
  boost::json::object details;           // trap reports: what the trap saw
  std::vector<Classified> related_iocs;  // further IoCs the event names (trap reports)
};

struct IngestResult {
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
  std::vector<std::string> ids;  // one per submission, in order (the stored event for a duplicate)
  std::int64_t iocs_created = 0;
  std::int64_t iocs_updated = 0;
};

struct ThreatEvent {
  std::string id;
  std::string origin;  // upload, trap
  std::string source_ip;
  bool anonymized = false;
  std::string attack_type;
  std::vector<std::string> techniques;
  std::optional<std::string> sigma_rule;
  std::string severity;
  std::string region;
  std::optional<std::string> industry;
  std::optional<std::string> country;
  std::string occurred_at;
  std::string received_at;
  std::optional<std::string> ioc_id;
  std::optional<std::string> campaign_id;
  boost::json::object details;
};

// IPv4 cut to /16 ("203.0.113.9" -> "203.0.0.0"), IPv6 to /48; the input is canonical.
std::string anonymize_source(std::string_view ip);

// "SELECT <columns> FROM threat_events" and the reader for its rows (shared with campaigns).
extern const std::string_view kEventColumns;
ThreatEvent read_event(const store::Statement& q);

class ThreatEvents {
 public:
  ThreatEvents(store::Database& db, const GeoIp& geo) : db_(db), geo_(geo) {}
  // Stores the events in one transaction (all or nothing) with one audit entry.
  IngestResult ingest(const std::vector<EventSubmission>& events, EventOrigin origin, bool anonymize, const Actor& by);
  // The newest events whose source is this IoC (at most `limit`), with their total, read on
  // `c` (inside the caller's read, so they match the IoC it read).
  static std::pair<std::vector<ThreatEvent>, std::int64_t> for_ioc(store::Connection& c, std::string_view ioc_id,
                                                                   std::int64_t limit);

 private:
  store::Database& db_;
  const GeoIp& geo_;
};

}  // namespace tc
