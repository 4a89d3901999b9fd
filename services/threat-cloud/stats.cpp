#include "stats.hpp"

#include "common/clock.hpp"

namespace tc {

namespace {

// ?1 = 1 restricts every query to shareable TLPs.
constexpr std::string_view kVisible = "(?1 = 0 OR tlp IN ('clear', 'green'))";

const std::string kTotals =
    "SELECT count(*), coalesce(sum(status = 'active'), 0), coalesce(sum(created_at >= ?2), 0), "
    "coalesce(sum(last_seen >= ?2), 0) FROM iocs WHERE " +
    std::string(kVisible);
const std::string kByType =
    "SELECT type, count(*) FROM iocs WHERE " + std::string(kVisible) + " GROUP BY type ORDER BY 2 DESC, 1";
const std::string kByStatus =
    "SELECT status, count(*) FROM iocs WHERE " + std::string(kVisible) + " GROUP BY status ORDER BY 2 DESC, 1";
const std::string kThreatTypes = "SELECT threat_type, count(*) FROM iocs WHERE status = 'active' AND " +
                                 std::string(kVisible) + " GROUP BY threat_type ORDER BY 2 DESC, 1 LIMIT 10";
const std::string kTechniques =
    "SELECT j.value, count(*) FROM iocs, json_each(iocs.mitre_techniques) AS j WHERE status = 'active' AND " +
    std::string(kVisible) + " GROUP BY j.value ORDER BY 2 DESC, 1 LIMIT 10";
const std::string kCountries =
    "SELECT country, count(*) FROM iocs WHERE status = 'active' AND country IS NOT NULL AND " + std::string(kVisible) +
    " GROUP BY country ORDER BY 2 DESC, 1 LIMIT 10";
const std::string kSightings =
    "SELECT count(*) FROM sightings s JOIN iocs ON iocs.id = s.ioc_id WHERE s.created_at >= ?2 AND " +
    std::string(kVisible);

constexpr std::string_view kEventTotals =
    "SELECT count(*), coalesce(sum(occurred_at >= ?), 0), count(DISTINCT source_ip) FROM threat_events";
constexpr std::string_view kAttackTypes =
    "SELECT attack_type, count(*) FROM threat_events GROUP BY attack_type ORDER BY 2 DESC, 1 LIMIT 10";
constexpr std::string_view kEventTechniques =
    "SELECT j.value, count(*) FROM threat_events, json_each(threat_events.techniques) AS j GROUP BY j.value "
    "ORDER BY 2 DESC, 1 LIMIT 10";
constexpr std::string_view kRegions =
    "SELECT region, count(*) FROM threat_events GROUP BY region ORDER BY 2 DESC, 1 LIMIT 10";
constexpr std::string_view kActiveCampaigns = "SELECT count(*) FROM campaigns WHERE status = 'active'";

IocStats::Counts event_counts(store::Connection& c, std::string_view sql) {
  IocStats::Counts out;
  auto q = c.prepare(sql);
  while (q->step()) out.emplace_back(q->text(0), q->int64(1));
  return out;
}

IocStats::Counts counts(store::Connection& c, const std::string& sql, int shareable) {
  IocStats::Counts out;
  auto q = c.prepare(sql);
  q->bind(1, shareable);
  while (q->step()) out.emplace_back(q->text(0), q->int64(1));
  return out;
}

}  // namespace

IocStats Stats::compute(bool shareable_only) const {
  const int shareable = shareable_only ? 1 : 0;
  const std::string day_ago = common::rfc3339_from_unix(common::unix_seconds() - 24 * 3600);
  return db_.read([&](store::Connection& c) {
    IocStats s;
    s.generated_at = common::rfc3339_now();
    {
      auto q = c.prepare(kTotals);
      q->bind_all(shareable, day_ago);
      if (q->step()) {
        s.total = q->int64(0);
        s.active = q->int64(1);
        s.new_last_24h = q->int64(2);
        s.seen_last_24h = q->int64(3);
      }
    }
    {
      auto q = c.prepare(kSightings);
      q->bind_all(shareable, day_ago);
      if (q->step()) s.sightings_last_24h = q->int64(0);
    }
    s.by_type = counts(c, kByType, shareable);
    s.by_status = counts(c, kByStatus, shareable);
    s.top_threat_types = counts(c, kThreatTypes, shareable);
    s.top_techniques = counts(c, kTechniques, shareable);
    s.top_countries = counts(c, kCountries, shareable);
    {
      auto q = c.prepare(kEventTotals);
      q->bind_all(day_ago);
      if (q->step()) {
        s.threats.total = q->int64(0);
        s.threats.last_24h = q->int64(1);
        s.threats.unique_sources = q->int64(2);
      }
    }
    s.threats.active_campaigns = c.query_int(kActiveCampaigns).value_or(0);
    s.threats.top_attack_types = event_counts(c, kAttackTypes);
    s.threats.top_techniques = event_counts(c, kEventTechniques);
    s.threats.top_regions = event_counts(c, kRegions);
    return s;
  });
}

}  // namespace tc
