// /api/threats (community threat events) and /api/trap-intel (honeypot reports).
#include <algorithm>
#include <cctype>

#include <boost/json/value_from.hpp>

#include "batch.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "common/metrics.hpp"
#include "events.hpp"
#include "mitre.hpp"
#include "routes.hpp"

namespace tc {

namespace {

namespace input = common::input;

constexpr std::size_t kMaxEvents = 1000;
constexpr std::size_t kMaxReports = 100;
constexpr std::size_t kMaxTechniques = 20;
constexpr std::size_t kMaxObservables = 50;    // hashes, URLs, domains per trap report
constexpr std::size_t kMaxObservations = 100;  // usernames, commands per trap report
constexpr std::int64_t kMaxFutureSkew = 300;   // seconds an event time may lie ahead of ours
constexpr std::size_t kEventsBodyLimit = 8 * 1024 * 1024;

[[noreturn]] void invalid(const std::string& field, std::string_view rule) {
  throw common::ApiError::validation("'" + field + "' " + std::string(rule));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string source_ip(const boost::json::object& o, std::string_view field) {
  auto raw = input::text(o, field, {.min = 2, .max = 64});
  auto key = classify(raw, IocType::Ip);
  if (!key) invalid(std::string(field), "must be an IPv4 or IPv6 address");
  return key->normalized;
}

std::string occurred_at(const boost::json::object& o, std::string_view field) {
  auto t = input::optional_timestamp(o, field);
  if (!t) invalid(std::string(field), "is required (RFC 3339, e.g. 2026-01-31T12:00:00Z)");
  if (*t > common::unix_seconds() + kMaxFutureSkew) invalid(std::string(field), "must not lie in the future");
  return common::rfc3339_from_unix(*t);
}

// One technique id or a list of them, each known to ATT&CK; sorted and distinct.
std::vector<std::string> techniques(const AttackCatalog& attack, const boost::json::object& o, std::string_view field,
                                    bool required) {
  std::vector<std::string> raw;
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) {
    if (required) invalid(std::string(field), "is required (an ATT&CK technique id such as T1110, or a list of them)");
    return {};
  }
  if (v->is_string())
    raw.emplace_back(v->as_string());
  else if (v->is_array())
    raw = input::text_list(o, field, kMaxTechniques, {.min = 1, .max = 16});
  else
    invalid(std::string(field), "must be an ATT&CK technique id or a list of them");
  if (required && raw.empty()) invalid(std::string(field), "must name at least one technique");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string id = raw[i];
    for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!attack.technique(id))
      invalid(v->is_array() ? std::string(field) + "[" + std::to_string(i) + "]" : std::string(field),
              "must be a MITRE ATT&CK Enterprise technique id such as T1110 or T1059.001 (ATT&CK v" + attack.version() +
                  ")");
    out.push_back(std::move(id));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string severity(const boost::json::object& o) {
  return input::optional_one_of(o, "severity", {"low", "medium", "high", "critical"}).value_or("medium");
}

EventSubmission parse_event(const AttackCatalog& attack, const boost::json::object& o) {
  EventSubmission e;
  e.source_ip = source_ip(o, "attackSourceIP");
  e.attack_type = lower(input::text(o, "attackType", {.min = 1, .max = 64}));
  e.techniques = techniques(attack, o, "mitreTechnique", true);
  e.sigma_rule = input::text(o, "sigmaRuleMatched", {.min = 1, .max = 256});
  e.occurred_at = occurred_at(o, "timestamp");
  e.region = input::text(o, "region", {.min = 1, .max = 64});
  e.industry = input::optional_text(o, "industry", {.min = 1, .max = 64});
  e.severity = severity(o);
  return e;
}

// Observables of one type named by a trap report ("malwareHashes" -> hash_*).
void observables(const boost::json::object& o, std::string_view field, std::initializer_list<IocType> types,
                 std::string_view what, std::vector<Classified>& out) {
  auto values = input::text_list(o, field, kMaxObservables, {.min = 1, .max = 2048});
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::optional<Classified> key;
    for (auto t : types)
      if (!key) key = classify(values[i], t);
    if (!key) invalid(std::string(field) + "[" + std::to_string(i) + "]", "must be " + std::string(what));
    out.push_back(std::move(*key));
  }
}

EventSubmission parse_trap_report(const AttackCatalog& attack, const boost::json::object& o) {
  EventSubmission e;
  auto trap_id = input::text(o, "trapId", {.min = 1, .max = 128});
  auto trap_type = lower(input::text(o, "trapType", {.min = 1, .max = 32}));
  e.source_ip = source_ip(o, "attackerIP");
  e.occurred_at = occurred_at(o, "timestamp");
  e.attack_type = lower(input::optional_text(o, "attackType", {.min = 1, .max = 64}).value_or("honeypot_" + trap_type));
  e.techniques = techniques(attack, o, "mitreTechniques", false);
  e.region = input::optional_text(o, "region", {.min = 1, .max = 64}).value_or("unknown");
  e.industry = input::optional_text(o, "industry", {.min = 1, .max = 64});
  e.severity = severity(o);
  e.details = {{"trapId", trap_id}, {"trapType", trap_type}};
  if (auto port = input::optional_integer(o, "port", 1, 65535)) e.details["port"] = *port;
  if (auto protocol = input::optional_text(o, "protocol", {.min = 1, .max = 32})) e.details["protocol"] = *protocol;
  if (auto ended = input::optional_timestamp(o, "endedAt")) {
    auto text = common::rfc3339_from_unix(*ended);
    if (text < e.occurred_at) invalid("endedAt", "must not be before timestamp");
    e.details["endedAt"] = text;
  }
  for (const char* list : {"usernames", "commands"}) {
    // Commands may span lines (here-documents, scripts pasted into a shell).
    auto items = input::text_list(o, list, kMaxObservations,
                                  {.min = 1, .max = 1024, .single_line = std::string_view(list) == "usernames"});
    if (!items.empty()) e.details[list] = boost::json::value_from(items);
  }
  observables(o, "malwareHashes", {IocType::HashSha256, IocType::HashSha1, IocType::HashMd5},
              "an MD5, SHA-1 or SHA-256 hash in hex", e.related_iocs);
  observables(o, "urls", {IocType::Url}, "an http(s) URL", e.related_iocs);
  observables(o, "domains", {IocType::Domain}, "a domain name", e.related_iocs);
  return e;
}

boost::json::object ingest_json(const IngestResult& r, bool anonymized) {
  boost::json::array ids;
  for (const auto& id : r.ids) ids.emplace_back(id);
  return {{"accepted", r.accepted},
          {"duplicates", r.duplicates},
          {"ids", std::move(ids)},
          {"anonymized", anonymized},
          {"iocs", {{"created", r.iocs_created}, {"updated", r.iocs_updated}}}};
}

using Counted = common::metrics::Family<common::metrics::Counter>;

void count(Counted& counted, std::string_view origin, const IngestResult& r) {
  counted.with({std::string(origin), "accepted"}).inc(static_cast<double>(r.accepted));
  counted.with({std::string(origin), "duplicate"}).inc(static_cast<double>(r.duplicates));
}

common::Response upload_threats(ThreatEvents& events, const AttackCatalog& attack, bool anonymize, Counted& counted,
                                common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  std::vector<EventSubmission> submissions;
  auto parse = [&attack](const boost::json::object& o) { return parse_event(attack, o); };
  if (const auto* list = body.if_contains("events")) {
    if (!list->is_array()) invalid("events", "must be an array of event objects");
    const auto& a = list->as_array();
    if (a.empty() || a.size() > kMaxEvents)
      invalid("events", "must have 1 to " + std::to_string(kMaxEvents) + " items");
    submissions.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) submissions.push_back(parse_element(a[i], "events", i, parse));
  } else {
    submissions.push_back(parse(body));
  }
  auto result = events.ingest(submissions, EventOrigin::Upload, anonymize, actor_of(req));
  count(counted, "upload", result);
  return common::envelope_ok(ingest_json(result, anonymize), result.accepted > 0 ? 201 : 200);
}

common::Response report_traps(ThreatEvents& events, const AttackCatalog& attack, Counted& counted,
                              common::Request& req) {
  auto body = req.json(false);
  std::vector<EventSubmission> reports;
  auto parse = [&attack](const boost::json::object& o) { return parse_trap_report(attack, o); };
  if (body.is_array()) {
    const auto& a = body.as_array();
    if (a.empty() || a.size() > kMaxReports)
      invalid("body", "must be one report object or an array of 1 to " + std::to_string(kMaxReports) + " reports");
    for (std::size_t i = 0; i < a.size(); ++i) reports.push_back(parse_element(a[i], "reports", i, parse));
  } else if (body.is_object()) {
    reports.push_back(parse(body.as_object()));
  } else {
    invalid("body", "must be one report object or an array of reports");
  }
  auto result = events.ingest(reports, EventOrigin::Trap, false, actor_of(req));
  count(counted, "trap", result);
  return common::envelope_ok(ingest_json(result, false), result.accepted > 0 ? 201 : 200);
}

}  // namespace

std::vector<common::Route> event_routes(ThreatEvents& events, const AttackCatalog& attack, bool anonymize,
                                        Counted& counted) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/threats",
       .auth = "public-write",
       .limit = "write",
       .fields = {"attackSourceIP", "attackType", "events", "industry", "mitreTechnique", "region", "severity",
                  "sigmaRuleMatched", "timestamp"},
       .handler = [&events, &attack, anonymize,
                   &counted](Request& r) { return upload_threats(events, attack, anonymize, counted, r); },
       .body_limit = kEventsBodyLimit,
       .offload = true},
      {.method = "POST",
       .path = "/api/trap-intel",
       .auth = "write",
       .limit = "write",
       .fields = {"attackType", "attackerIP", "domains", "endedAt", "industry", "malwareHashes", "port", "protocol",
                  "region", "severity", "timestamp", "trapId", "trapType", "urls", "usernames", "commands",
                  "mitreTechniques"},
       .handler = [&events, &attack, &counted](Request& r) { return report_traps(events, attack, counted, r); },
       .body_limit = kEventsBodyLimit,
       .offload = true},
  };
}

}  // namespace tc
