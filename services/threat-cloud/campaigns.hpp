#pragma once
// Campaigns: groups of threat events, found by the correlation job or made by analysts.
// The correlation job looks at events received in the lookback window that belong to no
// campaign yet:
//   ip_cluster:      the same source with >= 3 events within 60 minutes (a later event within
//                    60 minutes of the cluster's last one joins it; an active ip_cluster of that
//                    source takes events within 60 minutes of its span),
//   pattern_cluster: the same attack type and technique set from >= 5 distinct sources (an
//                    active pattern_cluster with that key takes them).
// Severity is the highest severity seen; automatic campaigns without events for the dormancy
// period become dormant.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit.hpp"
#include "events.hpp"
#include "store/database.hpp"

namespace tc {

inline constexpr std::string_view kCampaignStatuses[] = {"active", "dormant", "resolved", "false_positive"};
inline constexpr std::string_view kCampaignKinds[] = {"ip_cluster", "pattern_cluster", "manual"};

struct Campaign {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::string kind;
  std::string status;
  std::string severity;
  std::optional<std::string> first_seen, last_seen;
  std::int64_t event_count = 0;
  std::int64_t unique_sources = 0;
  std::int64_t ioc_count = 0;
  std::vector<std::string> attack_types, techniques;
  std::string created_at, updated_at, created_by;
};

struct CampaignIoc {
  std::string id, type, value;
  int reputation = 0;
  std::int64_t events = 0;
};

struct TimelinePoint {
  std::string time;
  std::int64_t events = 0, sources = 0;
  std::vector<std::string> attack_types;
};

struct CampaignDetail {
  Campaign campaign;
  std::vector<ThreatEvent> events;   // newest first, at most the requested number
  std::vector<CampaignIoc> iocs;     // most events first
  std::string timeline_granularity;  // hour, or day for campaigns longer than 14 days
  std::vector<TimelinePoint> timeline;
};

struct NewCampaign {
  std::string name;
  std::optional<std::string> description;
  std::string severity = "medium";
  std::string status = "active";
  std::vector<std::string> event_ids;
};

struct CampaignPatch {
  std::optional<std::string> name, description, severity, status;
  std::vector<std::string> add_event_ids;
};

struct CampaignFilter {
  std::optional<std::string> status, kind, severity;
  std::optional<std::string> since;  // last seen (or created) at or after
};

struct CorrelationResult {
  std::int64_t created = 0;
  std::int64_t extended = 0;
  std::int64_t events_correlated = 0;
  std::int64_t dormant = 0;
  std::vector<std::string> campaign_ids;  // created or extended
};

struct CampaignStats {
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  std::int64_t total = 0, created_last_24h = 0, events_correlated = 0, events_uncorrelated = 0;
  Counts by_status, by_kind, by_severity, top_attack_types;
};

struct CorrelationSettings {
  std::chrono::seconds lookback = std::chrono::days(7);
  std::chrono::seconds dormant_after = std::chrono::days(7);
  std::size_t max_events = 200000;  // events looked at per run
};

class Campaigns {
 public:
  Campaigns(store::Database& db, CorrelationSettings settings) : db_(db), settings_(settings) {}

  CorrelationResult correlate(const Actor& by);
  // Throws ApiError 404 for an unknown event id, 409 for an event already in another campaign.
  Campaign create(const NewCampaign& campaign, const Actor& by);
  std::optional<Campaign> update(std::string_view id, const CampaignPatch& patch, const Actor& by);
  std::pair<std::vector<Campaign>, std::int64_t> list(const CampaignFilter& filter, std::int64_t limit,
                                                      std::int64_t offset) const;
  std::optional<CampaignDetail> detail(std::string_view id, std::int64_t event_limit) const;
  CampaignStats stats() const;
  // The campaigns holding events whose source is this IoC, read on `c` (the caller's read).
  static std::vector<Campaign> for_ioc(store::Connection& c, std::string_view ioc_id);

 private:
  store::Database& db_;
  CorrelationSettings settings_;
};

}  // namespace tc
