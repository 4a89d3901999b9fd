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
    return s;
  });
}

}  // namespace tc
