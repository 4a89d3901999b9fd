// Threat routes: batch ingestion from agents, listing, one threat, summary.
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace manager {

namespace {

namespace in = common::input;

constexpr std::size_t kMaxBatch = 1000;

ThreatReport parse_report(const boost::json::value& item) {
  if (!item.is_object()) throw common::ApiError::validation("must be an object with event and verdict");
  const auto& o = item.as_object();
  auto event = in::optional_object(o, "event");
  auto verdict = in::optional_object(o, "verdict");
  if (!event) throw common::ApiError::validation("'event' is required");
  if (!verdict) throw common::ApiError::validation("'verdict' is required");
  ThreatReport r;
  r.event_id = in::text(*event, "id", {.max = 128});
  auto at = in::optional_timestamp(*event, "timestamp");
  if (!at) throw common::ApiError::validation("'event.timestamp' is required");
  r.occurred_at = *at;
  r.source = in::text(*event, "source", {.max = 128});
  r.severity = in::one_of(*event, "severity", {"info", "low", "medium", "high", "critical"});
  r.category = in::text(*event, "category", {.max = 64});
  r.description = in::text(*event, "description", {.min = 0, .max = 4096, .single_line = false});
  if (auto* raw = event->if_contains("raw"); raw && !raw->is_null()) {
    r.raw = boost::json::serialize(*raw);  // returned as sent: an object stays an object
    if (r.raw->size() > 65536) throw common::ApiError::validation("'event.raw' must be at most 65536 bytes");
  }
  r.host = in::optional_text(*event, "host", {.max = 253});
  r.metadata = in::optional_object(*event, "metadata").value_or(boost::json::object{});
  r.conclusion = in::one_of(*verdict, "conclusion", {"benign", "suspicious", "malicious"});
  r.confidence = in::integer(*verdict, "confidence", 0, 100);
  r.action = in::optional_text(*verdict, "action", {.max = 64});
  return r;
}

std::vector<ThreatReport> parse_batch(const boost::json::object& body) {
  auto* threats = body.if_contains("threats");
  if (!threats || !threats->is_array()) throw common::ApiError::validation("'threats' must be an array");
  const auto& items = threats->as_array();
  if (items.empty() || items.size() > kMaxBatch)
    throw common::ApiError::validation("'threats' must hold 1 to 1000 items");
  in::optional_timestamp(body, "reportedAt");
  std::vector<ThreatReport> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    try {
      out.push_back(parse_report(items[i]));
    } catch (const common::ApiError& e) {
      throw common::ApiError::validation("threats[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return out;
}

// threats_reported for what was stored, threat_correlated for new links.
void announce(Fleet& fleet, const std::string& agent_id, const Threats::Ingested& result) {
  if (result.accepted == 0) return;
  boost::json::array ids, critical;
  for (const auto& t : result.threats) {
    ids.push_back(t.as_object().at("id"));
    if (t.as_object().at("severity") == "critical") critical.push_back(t.as_object().at("id"));
  }
  fleet.events.publish("threats_reported", boost::json::serialize(boost::json::object{{"agentId", agent_id},
                                                                                      {"accepted", result.accepted},
                                                                                      {"duplicates", result.duplicates},
                                                                                      {"threatIds", ids}}));
  if (!result.correlated.empty()) {
    boost::json::array related(result.correlated.begin(), result.correlated.end());
    fleet.events.publish(
        "threat_correlated",
        boost::json::serialize(boost::json::object{
            {"agentId", agent_id}, {"threatIds", ids}, {"correlatedWith", related}, {"critical", critical}}));
  }
}

}  // namespace

void add_threat_routes(common::Service& service, Fleet& fleet) {
  auto& agents = fleet.agents;
  auto& threats = fleet.threats;
  service.add({
      {.method = "POST",
       .path = "/api/agents/{id}/events",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .fields = {"reportedAt", "threats"},
       .handler =
           [&agents, &threats, &fleet](common::Request& req) {
             std::string id(req.param("id"));
             auto batch = parse_batch(req.json_object());
             if (!agents.find(id)) throw common::ApiError::not_found("agent not found");
             auto result = threats.ingest(id, batch);
             announce(fleet, id, result);
             int status = result.accepted > 0 ? 201 : 200;  // a retry of stored events creates nothing
             return common::envelope_ok(boost::json::object{{"accepted", result.accepted},
                                                            {"duplicates", result.duplicates},
                                                            {"threats", std::move(result.threats)}},
                                        status);
           },
       .body_limit = 16 * 1024 * 1024,
       .offload = true},
      {.method = "GET",
       .path = "/api/threats",
       .auth = "fleet",
       .query = {"agentId", "category", "conclusion", "limit", "page", "severity", "since", "until"},
       .handler =
           [&threats](common::Request& req) {
             ThreatFilter f;
             f.since = in::query_timestamp(req, "since");
             f.until = in::query_timestamp(req, "until");
             f.severity = in::query_one_of(req, "severity", {"info", "low", "medium", "high", "critical"});
             f.conclusion = in::query_one_of(req, "conclusion", {"benign", "suspicious", "malicious"});
             f.category = req.query_param("category");
             f.agent_id = req.query_param("agentId");
             f.page = common::parse_page(req);
             auto [items, total] = threats.list(f);
             return common::envelope_page(std::move(items), total, f.page);
           }},
      {.method = "GET",
       .path = "/api/threats/summary",
       .auth = "fleet",
       .query = {"period"},
       .handler =
           [&threats](common::Request& req) {
             static const std::pair<const char*, std::int64_t> kPeriods[] = {
                 {"1h", 3600}, {"6h", 6 * 3600}, {"24h", 86400}, {"7d", 7 * 86400}, {"30d", 30 * 86400}};
             std::string period = req.query_param("period").value_or("24h");
             for (auto [name, seconds] : kPeriods) {
               if (period != name) continue;
               auto summary = threats.summary(common::unix_seconds() - seconds);
               summary["period"] = period;
               return common::envelope_ok(std::move(summary));
             }
             throw common::ApiError::validation("query parameter 'period' must be one of: 1h, 6h, 24h, 7d, 30d");
           }},
      {.method = "GET",
       .path = "/api/threats/{id}",
       .auth = "fleet",
       .handler =
           [&threats](common::Request& req) {
             auto t = threats.find(std::string(req.param("id")));
             if (!t) throw common::ApiError::not_found("threat not found");
             return common::envelope_ok(std::move(*t));
           }},
  });
}

}  // namespace manager
