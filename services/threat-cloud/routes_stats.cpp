// /api/stats: totals and top lists over the IoCs.
#include <any>

#include "api_keys.hpp"
#include "common/envelope.hpp"
#include "routes.hpp"
#include "stats.hpp"

namespace tc {

namespace {

boost::json::object count_map(const IocStats::Counts& counts) {
  boost::json::object o;
  for (const auto& [key, n] : counts) o[key] = n;
  return o;
}

boost::json::array top_list(const IocStats::Counts& counts, const char* key_name) {
  boost::json::array a;
  for (const auto& [key, n] : counts) a.push_back({{key_name, key}, {"count", n}});
  return a;
}

common::Response stats(const Stats& stats, common::Request& req) {
  const auto* caller = std::any_cast<Caller>(&req.principal);
  auto s = stats.compute(!caller || caller->anonymous);
  return common::envelope_ok(
      {{"generatedAt", s.generated_at},
       {"totals", {{"iocs", s.total}, {"active", s.active}}},
       {"byType", count_map(s.by_type)},
       {"byStatus", count_map(s.by_status)},
       {"last24h", {{"newIocs", s.new_last_24h}, {"seenIocs", s.seen_last_24h}, {"sightings", s.sightings_last_24h}}},
       {"topThreatTypes", top_list(s.top_threat_types, "threatType")},
       {"topTechniques", top_list(s.top_techniques, "technique")},
       {"topCountries", top_list(s.top_countries, "country")},
       {"threats",
        {{"total", s.threats.total},
         {"last24h", s.threats.last_24h},
         {"uniqueSources", s.threats.unique_sources},
         {"activeCampaigns", s.threats.active_campaigns},
         {"topAttackTypes", top_list(s.threats.top_attack_types, "attackType")},
         {"topTechniques", top_list(s.threats.top_techniques, "technique")},
         {"topRegions", top_list(s.threats.top_regions, "region")}}}});
}

}  // namespace

std::vector<common::Route> stats_routes(Stats& s) {
  return {{.method = "GET",
           .path = "/api/stats",
           .auth = "public-read",
           .limit = "read",
           .handler = [&s](common::Request& r) { return stats(s, r); },
           .offload = true}};
}

}  // namespace tc
