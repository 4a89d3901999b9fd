#include "analytics.hpp"

#include <map>

namespace tc {

namespace {

// Every aggregate binds ?1 since, ?2 until, ?3 attack type (NULL = no bound).
constexpr std::string_view kScope =
    " WHERE (?1 IS NULL OR occurred_at >= ?1) AND (?2 IS NULL OR occurred_at <= ?2) AND (?3 IS NULL OR "
    "attack_type = ?3)";
constexpr std::size_t kTopAttackTypes = 5;

std::string_view bucket_expression(Granularity g) {
  switch (g) {
    case Granularity::Hour: return "strftime('%Y-%m-%dT%H:00:00Z', occurred_at)";
    case Granularity::Day: return "strftime('%Y-%m-%dT00:00:00Z', occurred_at)";
    case Granularity::Week: return "strftime('%Y-%m-%dT00:00:00Z', occurred_at, '-6 days', 'weekday 1')";
  }
  return "";
}

void bind_scope(store::Statement& q, const EventScope& s) { q.bind_all(s.since, s.until, s.attack_type); }

// Groups of `column` with events and distinct sources, plus their top attack types.
std::vector<GeoGroup> groups(store::Connection& c, std::string_view column, const EventScope& scope) {
  std::vector<GeoGroup> out;
  std::map<std::string, std::size_t> index;
  {
    auto q =
        c.prepare("SELECT " + std::string(column) + ", count(*), count(DISTINCT source_ip) FROM threat_events" +
                  std::string(kScope) + " AND " + std::string(column) + " IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1");
    bind_scope(*q, scope);
    while (q->step()) {
      index[q->text(0)] = out.size();
      out.push_back({q->text(0), q->int64(1), q->int64(2), {}});
    }
  }
  auto q =
      c.prepare("SELECT " + std::string(column) + ", attack_type, count(*) FROM threat_events" + std::string(kScope) +
                " AND " + std::string(column) + " IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2");
  bind_scope(*q, scope);
  while (q->step()) {
    auto& g = out[index.at(q->text(0))];
    if (g.top_attack_types.size() < kTopAttackTypes) g.top_attack_types.emplace_back(q->text(1), q->int64(2));
  }
  return out;
}

}  // namespace

std::vector<SeriesBucket> Analytics::timeseries(Granularity granularity, const EventScope& scope) const {
  const std::string sql = "SELECT " + std::string(bucket_expression(granularity)) +
                          " AS bucket, count(*), count(DISTINCT source_ip) FROM threat_events" + std::string(kScope) +
                          " GROUP BY bucket ORDER BY bucket";
  return db_.read([&](store::Connection& c) {
    std::vector<SeriesBucket> out;
    auto q = c.prepare(sql);
    bind_scope(*q, scope);
    while (q->step()) out.push_back({q->text(0), q->int64(1), q->int64(2)});
    return out;
  });
}

GeoBreakdown Analytics::geo(const EventScope& scope) const {
  const std::string totals =
      "SELECT count(*), coalesce(sum(country IS NULL), 0) FROM threat_events" + std::string(kScope);
  return db_.read([&](store::Connection& c) {
    GeoBreakdown g;
    {
      auto q = c.prepare(totals);
      bind_scope(*q, scope);
      if (q->step()) {
        g.total = q->int64(0);
        g.unresolved = q->int64(1);
      }
    }
    g.countries = groups(c, "country", scope);
    g.regions = groups(c, "region", scope);
    return g;
  });
}

std::vector<AttackTypeTrend> Analytics::trends(const std::string& previous_from, const std::string& current_from,
                                               const std::string& until) const {
  return db_.read([&](store::Connection& c) {
    std::vector<AttackTypeTrend> out;
    auto q = c.prepare(
        "SELECT attack_type, sum(occurred_at >= ?2), sum(occurred_at < ?2) FROM threat_events "
        "WHERE occurred_at >= ?1 AND occurred_at <= ?3 GROUP BY attack_type ORDER BY attack_type");
    q->bind_all(previous_from, current_from, until);
    while (q->step()) out.push_back({q->text(0), q->int64(1), q->int64(2)});
    return out;
  });
}

EventCounts Analytics::techniques(const EventScope& scope) const {
  const std::string sql = "SELECT j.value, count(*) FROM threat_events, json_each(threat_events.techniques) AS j" +
                          std::string(kScope) + " GROUP BY j.value ORDER BY 2 DESC, 1";
  return db_.read([&](store::Connection& c) {
    EventCounts out;
    auto q = c.prepare(sql);
    bind_scope(*q, scope);
    while (q->step()) out.emplace_back(q->text(0), q->int64(1));
    return out;
  });
}

}  // namespace tc
