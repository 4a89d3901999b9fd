// The live event stream (SSE) and the fleet overview the dashboard shows.
#include <algorithm>
#include <charconv>
#include <set>

#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "routes.hpp"

namespace manager {

namespace {

const std::set<std::string> kEventTypes{"agent_online",     "agent_offline",     "agent_stale",
                                        "threats_reported", "threat_correlated", "policy_created"};

std::set<std::string> parse_types(const common::Request& req) {
  std::set<std::string> types;
  auto raw = req.query_param("types");
  if (!raw) return types;
  for (auto& t : common::split_list(*raw)) {
    if (!kEventTypes.count(t))
      throw common::ApiError::validation("query parameter 'types' has an unknown event type '" + t + "'");
    types.insert(t);
  }
  return types;
}

std::optional<std::uint64_t> last_event_id(const common::Request& req) {
  std::optional<std::string> raw;
  if (auto h = req.headers.get("Last-Event-ID"))
    raw = std::string(*h);
  else
    raw = req.query_param("lastEventId");
  if (!raw || raw->empty()) return std::nullopt;
  std::uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), id);
  if (ec != std::errc() || ptr != raw->data() + raw->size()) return std::nullopt;  // unknown id: live only
  return id;
}

common::Response event_stream(Fleet& fleet, common::Request& req) {
  auto types = parse_types(req);
  common::Response res;
  res.headers.add("Content-Type", "text/event-stream; charset=utf-8");
  res.headers.add("Cache-Control", "no-cache");
  res.headers.add("X-Accel-Buffering", "no");  // proxies must not buffer the stream
  boost::json::array subscribed(types.begin(), types.end());
  res.stream = fleet.events.subscribe(
      last_event_id(req), std::move(types),
      boost::json::serialize(boost::json::object{{"time", common::rfc3339_now()}, {"types", subscribed}}));
  return res;
}

// The five most frequent categories of the summary, most frequent first.
boost::json::array top_categories(const ThreatSummary& summary) {
  auto sorted = summary.by_category;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  if (sorted.size() > 5) sorted.resize(5);
  boost::json::array top;
  for (const auto& c : sorted) top.push_back({{"category", c.key}, {"count", c.count}});
  return top;
}

common::Response overview(Fleet& fleet, common::Request&) {
  auto counts = fleet.agents.counts();
  std::int64_t now = common::unix_seconds();
  auto day = fleet.threats.summary(now - 86400);
  auto week = fleet.threats.summary(now - 7 * 86400);
  boost::json::object by_os, by_severity;
  for (const auto& [os, n] : counts.by_os) by_os[os] = n;
  for (const auto& c : day.by_severity) by_severity[c.key] = c.count;
  boost::json::array timeline;
  for (const auto& b : fleet.threats.timeline(now - 23 * 3600, 3600))
    timeline.push_back({{"start", common::rfc3339_from_unix(b.start)}, {"count", b.count}});
  auto active = fleet.policies.active();
  auto uptime = std::chrono::steady_clock::now() - fleet.started;
  return common::envelope_ok(boost::json::object{
      {"totalAgents", counts.total},
      {"onlineAgents", counts.online},
      {"staleAgents", counts.stale},
      {"offlineAgents", counts.offline},
      {"agentsByOs", std::move(by_os)},
      {"threatSummary", {{"last24h", day.total}, {"last7d", week.total}, {"bySeverity24h", std::move(by_severity)}}},
      {"topThreats", top_categories(day)},
      {"threatTimeline", std::move(timeline)},
      {"activePolicyVersion", active ? boost::json::value(active->version) : boost::json::value(nullptr)},
      {"uptimeMs", std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count()}});
}

}  // namespace

std::vector<common::Route> stream_routes(Fleet& fleet) {
  using common::Request;
  return {
      {.method = "GET",
       .path = "/api/events/stream",
       .auth = "fleet_stream",
       .query = {"lastEventId", "types", "token"},  // token: EventSource cannot send headers
       .handler = [&fleet](Request& r) { return event_stream(fleet, r); }},
      {.method = "GET",
       .path = "/api/overview",
       .auth = "fleet",
       .handler = [&fleet](Request& r) { return overview(fleet, r); }},
  };
}

}  // namespace manager
