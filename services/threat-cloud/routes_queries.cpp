// /api/query/*: time series, geography, trends and the MITRE ATT&CK heatmap over threat events.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "analytics.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "geoip.hpp"
#include "mitre.hpp"
#include "routes.hpp"

namespace tc {

namespace {

constexpr std::array<std::string_view, 3> kGranularities{"hour", "day", "week"};
constexpr std::array<std::string_view, 4> kPeriods{"24h", "7d", "30d", "90d"};
constexpr std::int64_t kMaxBuckets = 2000;
constexpr std::int64_t kHour = 3600, kDay = 24 * kHour, kWeek = 7 * kDay;

[[noreturn]] void invalid(std::string_view name, const std::string& rule) {
  throw common::ApiError::validation("query parameter '" + std::string(name) + "' " + rule);
}

double rounded(double x) { return std::round(x * 1000.0) / 1000.0; }

std::optional<std::string> attack_type(const common::Request& req) {
  auto t = common::input::query_text(req, "attackType", 64);
  if (t)
    for (auto& c : *t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

// The start of the bucket holding `t` (weeks start on Monday; 1970-01-01 was a Thursday).
std::int64_t bucket_start(std::int64_t t, std::int64_t step) {
  if (step == kWeek) {
    std::int64_t days = t / kDay;
    return (days - (days + 3) % 7) * kDay;
  }
  return t - t % step;
}

common::Response timeseries(const Analytics& analytics, common::Request& req) {
  auto name = common::input::query_one_of(req, "granularity", kGranularities).value_or("hour");
  Granularity g = name == "week" ? Granularity::Week : name == "day" ? Granularity::Day : Granularity::Hour;
  std::int64_t step = g == Granularity::Week ? kWeek : g == Granularity::Day ? kDay : kHour;
  std::int64_t default_span = g == Granularity::Week ? 12 * kWeek : g == Granularity::Day ? 30 * kDay : kDay;
  const std::int64_t now = common::unix_seconds();
  auto since_param = common::input::query_timestamp(req, "since");
  auto until_param = common::input::query_timestamp(req, "until");
  std::int64_t until = until_param.value_or(now);
  std::int64_t since = since_param.value_or(until - default_span + step);
  if (since > until) invalid("since", "must not be after until");
  std::int64_t first = bucket_start(since, step), last = bucket_start(until, step);
  if ((last - first) / step + 1 > kMaxBuckets)
    invalid("since", "reaches back too far: at most " + std::to_string(kMaxBuckets) + " " + name + " buckets");
  EventScope scope{common::rfc3339_from_unix(first), common::rfc3339_from_unix(until), attack_type(req)};
  auto buckets = analytics.timeseries(g, scope);
  // Every bucket of the range, empty ones included.
  std::map<std::string, const SeriesBucket*> by_time;
  for (const auto& b : buckets) by_time[b.time] = &b;
  boost::json::array points;
  std::int64_t total = 0;
  for (std::int64_t t = first; t <= last; t += step) {
    auto time = common::rfc3339_from_unix(t);
    auto it = by_time.find(time);
    std::int64_t events = it == by_time.end() ? 0 : it->second->events;
    std::int64_t sources = it == by_time.end() ? 0 : it->second->sources;
    total += events;
    points.push_back({{"time", time}, {"count", events}, {"uniqueSources", sources}});
  }
  boost::json::object out{{"granularity", name},
                          {"since", common::rfc3339_from_unix(first)},
                          {"until", common::rfc3339_from_unix(until)},
                          {"total", total},
                          {"points", std::move(points)}};
  if (scope.attack_type) out["attackType"] = *scope.attack_type;
  return common::envelope_ok(std::move(out));
}

boost::json::array top_types(const EventCounts& counts) {
  boost::json::array a;
  for (const auto& [type, n] : counts) a.push_back({{"attackType", type}, {"count", n}});
  return a;
}

double share(std::int64_t part, std::int64_t total) {
  return total ? rounded(static_cast<double>(part) / static_cast<double>(total)) : 0.0;
}

common::Response geo(const Analytics& analytics, const GeoIp& geoip, common::Request& req) {
  if (!geoip.available()) throw common::ApiError::not_implemented("TC_GEOIP_FILE (IP-to-country range files)");
  EventScope scope{common::input::query_timestamp_text(req, "since"), common::input::query_timestamp_text(req, "until"),
                   attack_type(req)};
  auto g = analytics.geo(scope);
  boost::json::array countries, regions;
  for (const auto& c : g.countries)
    countries.push_back({{"country", c.key},
                         {"name", geoip.name(c.key)},
                         {"count", c.events},
                         {"share", share(c.events, g.total)},
                         {"uniqueIps", c.unique_ips},
                         {"topAttackTypes", top_types(c.top_attack_types)}});
  for (const auto& r : g.regions)
    regions.push_back({{"region", r.key},
                       {"count", r.events},
                       {"share", share(r.events, g.total)},
                       {"uniqueIps", r.unique_ips},
                       {"topAttackTypes", top_types(r.top_attack_types)}});
  return common::envelope_ok({{"total", g.total},
                              {"unresolved", g.unresolved},
                              {"countries", std::move(countries)},
                              {"regions", std::move(regions)}});
}

common::Response trends(const Analytics& analytics, common::Request& req) {
  auto period = common::input::query_one_of(req, "period", kPeriods).value_or("7d");
  std::int64_t span = period == "24h" ? kDay : period == "30d" ? 30 * kDay : period == "90d" ? 90 * kDay : 7 * kDay;
  const std::int64_t now = common::unix_seconds();
  auto until = common::rfc3339_from_unix(now), current = common::rfc3339_from_unix(now - span),
       previous = common::rfc3339_from_unix(now - 2 * span);
  auto rows = analytics.trends(previous, current, until);
  struct Row {
    const AttackTypeTrend* t;
    std::int64_t change;
  };
  std::vector<Row> rising, falling, stable;
  std::int64_t current_total = 0, previous_total = 0;
  for (const auto& r : rows) {
    current_total += r.current;
    previous_total += r.previous;
    Row row{&r, r.current - r.previous};
    (row.change > 0 ? rising : row.change < 0 ? falling : stable).push_back(row);
  }
  std::sort(rising.begin(), rising.end(), [](const Row& a, const Row& b) { return a.change > b.change; });
  std::sort(falling.begin(), falling.end(), [](const Row& a, const Row& b) { return a.change < b.change; });
  auto json = [](const std::vector<Row>& list) {
    boost::json::array a;
    for (const auto& r : list) {
      boost::json::object o{{"attackType", r.t->attack_type},
                            {"current", r.t->current},
                            {"previous", r.t->previous},
                            {"change", r.change}};
      if (r.t->previous > 0)
        o["changePercent"] = rounded(100.0 * static_cast<double>(r.change) / static_cast<double>(r.t->previous));
      else
        o["changePercent"] = nullptr;  // new in this period
      a.push_back(std::move(o));
    }
    return a;
  };
  return common::envelope_ok({{"period", period},
                              {"current", {{"from", current}, {"to", until}, {"total", current_total}}},
                              {"previous", {{"from", previous}, {"to", current}, {"total", previous_total}}},
                              {"rising", json(rising)},
                              {"falling", json(falling)},
                              {"stable", json(stable)}});
}

// An ATT&CK Navigator layer (format 4.5) scoring each technique by its number of events (the
// format wants a gradient with maxValue > minValue, so an empty map still spans 0..1).
boost::json::object navigator_layer(const AttackCatalog& attack, const EventCounts& counts, std::int64_t max) {
  boost::json::array techniques;
  std::map<std::string, bool> parents_with_children;
  for (const auto& [id, n] : counts) {
    techniques.push_back({{"techniqueID", id},
                          {"score", n},
                          {"comment", std::to_string(n) + " threat events"},
                          {"enabled", true},
                          {"showSubtechniques", false}});
    if (auto dot = id.find('.'); dot != std::string::npos) parents_with_children[id.substr(0, dot)] = true;
  }
  // Expand parents so that scored sub-techniques are visible when the layer opens.
  for (auto& t : techniques) {
    auto& o = t.as_object();
    if (parents_with_children.erase(std::string(o.at("techniqueID").as_string()))) o["showSubtechniques"] = true;
  }
  for (const auto& [parent, unused] : parents_with_children)
    techniques.push_back({{"techniqueID", parent}, {"enabled", true}, {"showSubtechniques", true}});
  auto major = attack.version().substr(0, attack.version().find('.'));
  return {{"name", "Panguard Threat Cloud heatmap"},
          {"versions", {{"attack", major}, {"navigator", "5.1.0"}, {"layer", "4.5"}}},
          {"domain", "enterprise-attack"},
          {"description", "Threat events per ATT&CK technique, from the Panguard Threat Cloud"},
          {"sorting", 3},
          {"layout", {{"layout", "side"}, {"aggregateFunction", "sum"}, {"showID", true}, {"showName", true}}},
          {"hideDisabled", false},
          {"techniques", std::move(techniques)},
          {"gradient",
           {{"colors", {"#ffffffff", "#ffb000ff", "#d62728ff"}},
            {"minValue", 0},
            {"maxValue", std::max<std::int64_t>(max, 1)}}},
          {"legendItems", boost::json::array{}},
          {"metadata", {{{"name", "generatedAt"}, {"value", common::rfc3339_now()}}}},
          {"showTacticRowBackground", false},
          {"selectTechniquesAcrossTactics", true},
          {"selectSubtechniquesWithParent", false}};
}

common::Response heatmap(const Analytics& analytics, const AttackCatalog& attack, common::Request& req) {
  auto format = common::input::query_one_of(req, "format", {"json", "navigator"}).value_or("json");
  EventScope scope{common::input::query_timestamp_text(req, "since"), common::input::query_timestamp_text(req, "until"),
                   attack_type(req)};
  auto counts = analytics.techniques(scope);
  std::int64_t max = 0;
  for (const auto& [id, n] : counts) max = std::max(max, n);
  if (format == "navigator") {
    auto response = common::Response::json(navigator_layer(attack, counts, max));
    response.headers.set("Content-Disposition", "attachment; filename=\"panguard-attack-layer.json\"");
    return response;
  }
  boost::json::array techniques;
  struct TacticTotal {
    std::int64_t events = 0, techniques = 0;
  };
  std::map<std::string, TacticTotal> per_tactic;
  for (const auto& [id, n] : counts) {
    const auto* t = attack.technique(id);
    boost::json::array tactics;
    if (t)
      for (const auto& tactic : t->tactics) {
        tactics.emplace_back(tactic);
        per_tactic[tactic].events += n;
        per_tactic[tactic].techniques += 1;
      }
    techniques.push_back(
        {{"id", id},
         {"name", t ? boost::json::value(t->name) : boost::json::value(nullptr)},
         {"tactic", t && !t->tactics.empty() ? boost::json::value(t->tactics.front()) : boost::json::value(nullptr)},
         {"tactics", std::move(tactics)},
         {"subtechnique", t && t->subtechnique},
         {"count", n},
         {"intensity", max ? rounded(static_cast<double>(n) / static_cast<double>(max)) : 0.0}});
  }
  boost::json::object tactics;
  for (const auto& tactic : attack.tactics()) {
    auto it = per_tactic.find(tactic.shortname);
    tactics[tactic.shortname] = {{"id", tactic.id},
                                 {"name", tactic.name},
                                 {"count", it == per_tactic.end() ? 0 : it->second.events},
                                 {"techniques", it == per_tactic.end() ? 0 : it->second.techniques}};
  }
  return common::envelope_ok({{"attackVersion", attack.version()},
                              {"maxCount", max},
                              {"techniques", std::move(techniques)},
                              {"tactics", std::move(tactics)}});
}

}  // namespace

std::vector<common::Route> query_routes(const Analytics& analytics, const AttackCatalog& attack, const GeoIp& geo_ip) {
  using common::Request;
  // Community statistics: open with TC_PUBLIC_READS.
  return {
      {.method = "GET",
       .path = "/api/query/timeseries",
       .auth = "public-read",
       .limit = "read",
       .query = {"granularity", "since", "until", "attackType"},
       .handler = [&analytics](Request& r) { return timeseries(analytics, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/query/geo",
       .auth = "public-read",
       .limit = "read",
       .query = {"since", "until", "attackType"},
       .handler = [&analytics, &geo_ip](Request& r) { return geo(analytics, geo_ip, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/query/trends",
       .auth = "public-read",
       .limit = "read",
       .query = {"period"},
       .handler = [&analytics](Request& r) { return trends(analytics, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/query/mitre-heatmap",
       .auth = "public-read",
       .limit = "read",
       .query = {"format", "since", "until", "attackType"},
       .handler = [&analytics, &attack](Request& r) { return heatmap(analytics, attack, r); },
       .offload = true},
  };
}

}  // namespace tc
