// Threat routes: batch ingestion from agents, listing, one threat, summary.
#include <boost/json/parse.hpp>
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

// A stored raw value as the agent sent it; rows from before raw values were kept as JSON text
// hold the plain string.
boost::json::value raw_value(const std::optional<std::string>& stored) {
  if (!stored) return nullptr;
  boost::system::error_code ec;
  auto value = boost::json::parse(*stored, ec);
  return ec ? boost::json::value(*stored) : value;
}

boost::json::object counts_json(const std::vector<KeyCount>& counts) {
  boost::json::object out;
  for (const auto& c : counts) out[c.key] = c.count;
  return out;
}

boost::json::array top_json(const std::vector<KeyCount>& counts, const char* key) {
  boost::json::array out;
  for (const auto& c : counts) out.push_back({{key, c.key}, {"count", c.count}});
  return out;
}

// threats_reported for what was stored, threat_correlated for new links.
void announce(Fleet& fleet, const std::string& agent_id, const Threats::Ingested& result) {
  if (result.accepted == 0) return;
  boost::json::array ids, critical;
  for (const auto& t : result.threats) {
    ids.emplace_back(t.id);
    if (t.severity == "critical") critical.emplace_back(t.id);
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

common::Response report_threats(Fleet& fleet, common::Request& req) {
  std::string id(req.param("id"));
  auto batch = parse_batch(req.json_object());
  if (!fleet.agents.find(id)) throw common::ApiError::not_found("agent not found");
  auto result = fleet.threats.ingest(id, batch);
  announce(fleet, id, result);
  // The hot path: the envelope written as text (the same bytes envelope_ok writes).
  std::string body = R"({"ok":true,"data":)";
  JsonObjectText data(body);
  data.integer("accepted", result.accepted).integer("duplicates", result.duplicates);
  auto& list = data.member("threats");
  list += '[';
  for (std::size_t i = 0; i < result.threats.size(); ++i) {
    if (i) list += ',';
    JsonObjectText threat(list);
    write_threat(threat, result.threats[i]);
    threat.close();
  }
  list += ']';
  data.close();
  body += '}';
  int status = result.accepted > 0 ? 201 : 200;  // a retry of stored events creates nothing
  return common::Response::text(std::move(body), "application/json", status);
}

common::Response list_threats(Fleet& fleet, common::Request& req) {
  ThreatFilter f;
  f.since = in::query_timestamp(req, "since");
  f.until = in::query_timestamp(req, "until");
  f.severity = in::query_one_of(req, "severity", {"info", "low", "medium", "high", "critical"});
  f.conclusion = in::query_one_of(req, "conclusion", {"benign", "suspicious", "malicious"});
  f.category = req.query_param("category");
  f.agent_id = req.query_param("agentId");
  f.page = common::parse_page(req);
  auto [threats, total] = fleet.threats.list(f);
  boost::json::array items;
  for (const auto& t : threats) items.push_back(threat_json(t));
  return common::envelope_page(std::move(items), total, f.page);
}

common::Response show_threat(Fleet& fleet, common::Request& req) {
  auto t = fleet.threats.find(std::string(req.param("id")));
  if (!t) throw common::ApiError::not_found("threat not found");
  return common::envelope_ok(threat_json(*t));
}

common::Response threat_summary(Fleet& fleet, common::Request& req) {
  static const std::pair<const char*, std::int64_t> kPeriods[] = {
      {"1h", 3600}, {"6h", 6 * 3600}, {"24h", 86400}, {"7d", 7 * 86400}, {"30d", 30 * 86400}};
  std::string period = req.query_param("period").value_or("24h");
  for (auto [name, seconds] : kPeriods) {
    if (period != name) continue;
    auto s = fleet.threats.summary(common::unix_seconds() - seconds);
    return common::envelope_ok(boost::json::object{{"since", common::rfc3339_from_unix(s.since)},
                                                   {"total", s.total},
                                                   {"bySeverity", counts_json(s.by_severity)},
                                                   {"byCategory", counts_json(s.by_category)},
                                                   {"topAgents", top_json(s.top_agents, "agentId")},
                                                   {"topSourceIps", top_json(s.top_source_ips, "ip")},
                                                   {"correlatedGroups", s.correlated_groups},
                                                   {"period", period}});
  }
  throw common::ApiError::validation("query parameter 'period' must be one of: 1h, 6h, 24h, 7d, 30d");
}

}  // namespace

void write_threat(JsonObjectText& o, const Threat& t) {
  o.text("id", t.id)
      .text("agentId", t.agent_id)
      .text("eventId", t.event_id)
      .text("timestamp", common::rfc3339_from_unix(t.occurred_at))
      .text("receivedAt", common::rfc3339_from_unix(t.received_at))
      .text("source", t.source)
      .text("severity", t.severity)
      .text("originalSeverity", t.original_severity)
      .text("category", t.category)
      .text("description", t.description)
      .value("raw", raw_value(t.raw))
      .text("host", t.host)
      .value("metadata", t.metadata);
  JsonObjectText verdict(o.member("verdict"));
  verdict.text("conclusion", t.conclusion).integer("confidence", t.confidence).text("action", t.action).close();
  o.text("sourceIp", t.source_ip).text("fileHash", t.file_hash);
  o.strings("correlatedWith", t.correlated_with);
}

boost::json::object threat_json(const Threat& threat) {
  std::string text;
  JsonObjectText o(text);
  write_threat(o, threat);
  o.close();
  return boost::json::parse(text).as_object();
}

std::vector<common::Route> threat_routes(Fleet& fleet) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/agents/{id}/events",
       .auth = "agent",
       .limit = "agent",
       .ip_limit = false,
       .fields = {"reportedAt", "threats"},
       .handler = [&fleet](Request& r) { return report_threats(fleet, r); },
       .body_limit = 16 * 1024 * 1024,
       .offload = true},
      {.method = "GET",
       .path = "/api/threats",
       .auth = "fleet",
       .query = {"agentId", "category", "conclusion", "limit", "page", "severity", "since", "until"},
       .handler = [&fleet](Request& r) { return list_threats(fleet, r); }},
      {.method = "GET",
       .path = "/api/threats/{id}",
       .auth = "fleet",
       .handler = [&fleet](Request& r) { return show_threat(fleet, r); }},
      {.method = "GET",
       .path = "/api/threats/summary",
       .auth = "fleet",
       .query = {"period"},
       .handler = [&fleet](Request& r) { return threat_summary(fleet, r); }},
  };
}

}  // namespace manager
