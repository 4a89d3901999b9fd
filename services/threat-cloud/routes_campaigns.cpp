// /api/campaigns: campaigns from the correlation job and manual ones; /api/admin/correlate
// runs the job at once.
#include <array>

#include <boost/json/value_from.hpp>

#include "campaigns.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace tc {

namespace {

namespace input = common::input;

constexpr std::size_t kMaxEventIds = 1000;
constexpr std::int64_t kDetailEvents = 200;

std::vector<std::string> event_ids(const boost::json::object& body, std::string_view field) {
  return input::text_list(body, field, kMaxEventIds, {.min = 1, .max = 64});
}

common::Response create(Campaigns& campaigns, common::Request& req) {
  auto body = req.json_object();
  NewCampaign n;
  n.name = input::text(body, "name", {.min = 1, .max = 200});
  n.description = input::optional_text(body, "description", {.min = 1, .max = 4000, .single_line = false});
  n.severity = input::optional_one_of(body, "severity", {"low", "medium", "high", "critical"}).value_or("medium");
  n.status =
      input::optional_one_of(body, "status", {"active", "dormant", "resolved", "false_positive"}).value_or("active");
  n.event_ids = event_ids(body, "eventIds");
  return common::envelope_ok(campaign_json(campaigns.create(n, actor_of(req))), 201);
}

common::Response patch(Campaigns& campaigns, common::Request& req) {
  auto body = req.json_object();
  CampaignPatch p;
  p.name = input::optional_text(body, "name", {.min = 1, .max = 200});
  p.description = input::optional_text(body, "description", {.min = 1, .max = 4000, .single_line = false});
  p.severity = input::optional_one_of(body, "severity", {"low", "medium", "high", "critical"});
  p.status = input::optional_one_of(body, "status", {"active", "dormant", "resolved", "false_positive"});
  p.add_event_ids = event_ids(body, "addEventIds");
  if (!p.name && !p.description && !p.severity && !p.status && p.add_event_ids.empty())
    throw common::ApiError::validation(
        "the body must set at least one of name, description, severity, status, addEventIds");
  auto campaign = campaigns.update(req.param("id"), p, actor_of(req));
  if (!campaign) throw common::ApiError::not_found("no campaign with this id");
  return common::envelope_ok(campaign_json(*campaign));
}

common::Response list(const Campaigns& campaigns, common::Request& req) {
  auto page = common::parse_page(req);
  CampaignFilter f;
  f.status = common::input::query_one_of(req, "status", kCampaignStatuses);
  f.kind = common::input::query_one_of(req, "kind", kCampaignKinds);
  f.severity = common::input::query_one_of(req, "severity", kSeverities);
  f.since = common::input::query_timestamp_text(req, "since");
  auto [items, total] = campaigns.list(f, page.limit, page.offset());
  boost::json::array out;
  for (const auto& c : items) out.push_back(campaign_json(c));
  return common::envelope_page(std::move(out), total, page);
}

common::Response detail(const Campaigns& campaigns, common::Request& req) {
  auto d = campaigns.detail(req.param("id"), kDetailEvents);
  if (!d) throw common::ApiError::not_found("no campaign with this id");
  boost::json::array events, iocs, points;
  for (const auto& e : d->events) events.push_back(event_json(e));
  for (const auto& i : d->iocs)
    iocs.push_back(
        {{"id", i.id}, {"type", i.type}, {"value", i.value}, {"reputation", i.reputation}, {"events", i.events}});
  for (const auto& p : d->timeline)
    points.push_back(
        {{"time", p.time}, {"events", p.events}, {"sources", p.sources}, {"attackTypes", boost::json::value_from(p.attack_types)}});
  return common::envelope_ok({{"campaign", campaign_json(d->campaign)},
                              {"events", std::move(events)},
                              {"iocs", std::move(iocs)},
                              {"timeline", {{"granularity", d->timeline_granularity}, {"points", std::move(points)}}}});
}

boost::json::object count_map(const CampaignStats::Counts& counts) {
  boost::json::object o;
  for (const auto& [key, n] : counts) o[key] = n;
  return o;
}

common::Response stats(const Campaigns& campaigns) {
  auto s = campaigns.stats();
  boost::json::array top;
  for (const auto& [type, n] : s.top_attack_types) top.push_back({{"attackType", type}, {"events", n}});
  return common::envelope_ok(
      {{"total", s.total},
       {"createdLast24h", s.created_last_24h},
       {"byStatus", count_map(s.by_status)},
       {"byKind", count_map(s.by_kind)},
       {"bySeverity", count_map(s.by_severity)},
       {"events", {{"correlated", s.events_correlated}, {"uncorrelated", s.events_uncorrelated}}},
       {"topAttackTypes", std::move(top)}});
}

common::Response correlate(Campaigns& campaigns, common::Request& req) {
  auto r = campaigns.correlate(actor_of(req));
  return common::envelope_ok({{"created", r.created},
                              {"extended", r.extended},
                              {"eventsCorrelated", r.events_correlated},
                              {"dormant", r.dormant},
                              {"campaignIds", boost::json::value_from(r.campaign_ids)}});
}

}  // namespace

boost::json::object campaign_json(const Campaign& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"description", boost::json::value_from(c.description)},
          {"kind", c.kind},
          {"status", c.status},
          {"severity", c.severity},
          {"firstSeen", boost::json::value_from(c.first_seen)},
          {"lastSeen", boost::json::value_from(c.last_seen)},
          {"eventCount", c.event_count},
          {"uniqueSources", c.unique_sources},
          {"iocCount", c.ioc_count},
          {"attackTypes", boost::json::value_from(c.attack_types)},
          {"techniques", boost::json::value_from(c.techniques)},
          {"createdAt", c.created_at},
          {"updatedAt", c.updated_at},
          {"createdBy", c.created_by}};
}

boost::json::object event_json(const ThreatEvent& e) {
  boost::json::object o{{"id", e.id},
                        {"origin", e.origin},
                        {"attackSourceIP", e.source_ip},
                        {"anonymized", e.anonymized},
                        {"attackType", e.attack_type},
                        {"mitreTechniques", boost::json::value_from(e.techniques)},
                        {"sigmaRuleMatched", boost::json::value_from(e.sigma_rule)},
                        {"severity", e.severity},
                        {"region", e.region},
                        {"industry", boost::json::value_from(e.industry)},
                        {"country", boost::json::value_from(e.country)},
                        {"timestamp", e.occurred_at},
                        {"receivedAt", e.received_at},
                        {"iocId", boost::json::value_from(e.ioc_id)},
                        {"campaignId", boost::json::value_from(e.campaign_id)}};
  if (!e.details.empty()) o["details"] = e.details;
  return o;
}

std::vector<common::Route> campaign_routes(Campaigns& campaigns) {
  using common::Request;
  return {
      {.method = "GET",
       .path = "/api/campaigns",
       .auth = "read",
       .limit = "read",
       .query = {"kind", "limit", "page", "severity", "since", "status"},
       .handler = [&campaigns](Request& r) { return list(campaigns, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/campaigns",
       .auth = "write",
       .limit = "write",
       .fields = {"description", "eventIds", "name", "severity", "status"},
       .handler = [&campaigns](Request& r) { return create(campaigns, r); }},
      {.method = "GET",
       .path = "/api/campaigns/stats",
       .auth = "read",
       .limit = "read",
       .handler = [&campaigns](Request&) { return stats(campaigns); },
       .offload = true},
      {.method = "GET",
       .path = "/api/campaigns/{id}",
       .auth = "read",
       .limit = "read",
       .handler = [&campaigns](Request& r) { return detail(campaigns, r); },
       .offload = true},
      {.method = "PATCH",
       .path = "/api/campaigns/{id}",
       .auth = "write",
       .limit = "write",
       .fields = {"addEventIds", "description", "name", "severity", "status"},
       .handler = [&campaigns](Request& r) { return patch(campaigns, r); }},
      {.method = "POST",
       .path = "/api/admin/correlate",
       .auth = "admin",
       .limit = "admin",
       .handler = [&campaigns](Request& r) { return correlate(campaigns, r); },
       .offload = true},
  };
}

}  // namespace tc
