#include "events.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "geoip.hpp"
#include "iocs.hpp"
#include "json_text.hpp"
#include "security/digest.hpp"

namespace tc {

const std::string_view kEventColumns =
    "id, origin, source_ip, anonymized, attack_type, techniques, sigma_rule, severity, region, industry, country, "
    "occurred_at, received_at, ioc_id, campaign_id, details";

namespace {

constexpr std::string_view kInsertEvent =
    "INSERT INTO threat_events (id, event_hash, origin, source_ip, anonymized, attack_type, techniques, sigma_rule, "
    "severity, region, industry, country, occurred_at, received_at, reported_by, details, ioc_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_hash) DO NOTHING";
constexpr std::string_view kEventByHash = "SELECT id FROM threat_events WHERE event_hash = ?";
constexpr std::string_view kIocByKey =
    "SELECT id, confidence, reputation, status, first_seen, last_seen, mitre_techniques, tags, country "
    "FROM iocs WHERE type = ? AND normalized_value = ?";
// On PostgreSQL uploads run at READ COMMITTED (decision 0041): the IoC row an event sights is
// locked until COMMIT, so concurrent sightings of one IoC wait for each other and each applies
// its step to the latest values (SQLite has one writer: the plain SELECT is enough).
const std::string kIocByKeyLocked = std::string(kIocByKey) + " FOR UPDATE";
constexpr std::string_view kInsertIoc =
    "INSERT INTO iocs (id, type, value, normalized_value, threat_type, source, source_reliability, confidence, "
    "reputation, tlp, first_seen, last_seen, sightings, status, tags, mitre_techniques, country, metadata, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'clear', ?, ?, 1, 'active', ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (type, normalized_value) DO NOTHING";
constexpr std::string_view kSightIoc =
    "UPDATE iocs SET sightings = sightings + 1, confidence = ?, reputation = ?, status = ?, first_seen = ?, "
    "last_seen = ?, mitre_techniques = ?, tags = ?, country = coalesce(country, ?), updated_at = ? WHERE id = ?";
constexpr std::string_view kInsertSighting =
    "INSERT INTO sightings (id, ioc_id, kind, source, note, observed_at, created_at, reported_by) "
    "VALUES (?, ?, 'positive', ?, ?, ?, ?, ?)";
constexpr std::string_view kEventsForIoc =
    " FROM threat_events WHERE ioc_id = ? ORDER BY occurred_at DESC, seq DESC LIMIT ?";
constexpr std::string_view kCountForIoc = "SELECT count(*) FROM threat_events WHERE ioc_id = ?";

constexpr int kSightingConfidenceStep = 5;
constexpr std::size_t kMaxStoredItems = 100;  // tags and techniques one IoC accumulates

void merge_into(std::vector<std::string>& into, const std::vector<std::string>& more) {
  for (const auto& s : more)
    if (into.size() < kMaxStoredItems && std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
}

// The reputation an event of this severity gives its IoCs at least.
int severity_reputation(std::string_view severity) {
  switch (severity_rank(severity)) {
    case 0: return 30;
    case 2: return 70;
    case 3: return 85;
    default: return 50;
  }
}

// How an origin's IoCs are described: source, reliability, starting confidence, sighting source.
struct OriginTraits {
  std::string_view name, ioc_source, reliability, sighting_source, audit_action;
  int confidence;
};
OriginTraits traits(EventOrigin origin) {
  if (origin == EventOrigin::Trap) return {"trap", "honeypot", "B", "trap-intel", "trap.report", 70};
  return {"upload", "community", "C", "threat-upload", "threat.upload", 40};
}

// What an event does to one IoC it names.
struct IocTouch {
  const Classified* key;
  std::string_view value;
  std::string threat_type;
  std::vector<std::string> techniques, tags;
  std::optional<std::string> country;
  boost::json::object metadata;
  int reputation;
  std::string seen;
  std::string event_id;
};

// Another replica's transaction inserted the same key after this one looked (READ COMMITTED):
// the whole upload is repeated, and then finds that row.
[[noreturn]] void lost_race(const std::string& what) {
  throw store::pg::Error("40001", what + " was inserted by a concurrent upload");
}

// Creates the IoC or applies a positive sighting to it, and records the sighting. Returns
// (IoC id, created).
std::pair<std::string, bool> touch_ioc(store::Connection& c, const IocTouch& t, const OriginTraits& o, const Actor& by,
                                       const std::string& now) {
  struct Stored {
    std::string id;
    int confidence, reputation;
    std::string status, first_seen, last_seen;
    std::vector<std::string> techniques, tags;
  };
  std::optional<Stored> stored;
  {
    auto q = c.prepare(c.postgres() ? std::string_view(kIocByKeyLocked) : kIocByKey);
    q->bind_all(type_name(t.key->type), t.key->normalized);
    if (q->step())
      stored = Stored{q->text(0), static_cast<int>(q->int64(1)), static_cast<int>(q->int64(2)), q->text(3), q->text(4),
                      q->text(5), parse_list(q->text(6)),        parse_list(q->text(7))};
  }
  std::string id;
  bool created = !stored;
  if (!stored) {
    id = new_ioc_id();
    if (c.execute(kInsertIoc, id, type_name(t.key->type), t.value, t.key->normalized, t.threat_type, o.ioc_source,
                  o.reliability, o.confidence, t.reputation, t.seen, t.seen, json_list(t.tags), json_list(t.techniques),
                  t.country, boost::json::serialize(t.metadata), now, now) == 0)
      lost_race("the IoC");
  } else {
    Stored& s = *stored;
    id = s.id;
    if (s.status == "expired") s.status = "active";
    merge_into(s.techniques, t.techniques);
    merge_into(s.tags, t.tags);
    c.execute(kSightIoc, std::min(100, s.confidence + kSightingConfidenceStep), std::max(s.reputation, t.reputation),
              s.status, std::min(s.first_seen, t.seen), std::max(s.last_seen, t.seen), json_list(s.techniques),
              json_list(s.tags), t.country, now, id);
  }
  c.execute(kInsertSighting, ordered_id("sgt_"), id, o.sighting_source, "event " + t.event_id, t.seen, now,
            by.key_id);
  return {id, created};
}

}  // namespace

int severity_rank(std::string_view severity) {
  for (std::size_t i = 0; i < std::size(kSeverities); ++i)
    if (kSeverities[i] == severity) return static_cast<int>(i);
  return -1;
}

std::string anonymize_source(std::string_view ip) {
  std::string text(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    auto* b = reinterpret_cast<unsigned char*>(&v4);
    b[2] = b[3] = 0;
    char out[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &v4, out, sizeof out) ? out : text;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    for (int i = 6; i < 16; ++i) v6.s6_addr[i] = 0;
    char out[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, &v6, out, sizeof out) ? out : text;
  }
  return text;
}

ThreatEvent read_event(const store::Statement& q) {
  ThreatEvent e;
  e.id = q.text(0);
  e.origin = q.text(1);
  e.source_ip = q.text(2);
  e.anonymized = q.int64(3) != 0;
  e.attack_type = q.text(4);
  e.techniques = parse_list(q.text(5));
  e.sigma_rule = q.text_or_null(6);
  e.severity = q.text(7);
  e.region = q.text(8);
  e.industry = q.text_or_null(9);
  e.country = q.text_or_null(10);
  e.occurred_at = q.text(11);
  e.received_at = q.text(12);
  e.ioc_id = q.text_or_null(13);
  e.campaign_id = q.text_or_null(14);
  e.details = parse_object(q.text(15));
  return e;
}

IngestResult ThreatEvents::ingest(const std::vector<EventSubmission>& events, EventOrigin origin, bool anonymize,
                                  const Actor& by) {
  const OriginTraits o = traits(origin);
  // Everything that needs no database is done before taking the writer (the first country
  // lookup also loads the range files).
  struct Stored {
    std::string source, techniques, details, hash;
    std::optional<std::string> country;
  };
  std::vector<Stored> rows;
  rows.reserve(events.size());
  for (const auto& e : events) {
    Stored r;
    r.source = anonymize ? anonymize_source(e.source_ip) : e.source_ip;
    r.country = geo_.country(r.source);
    r.techniques = json_list(e.techniques);
    r.details = boost::json::serialize(e.details);
    boost::json::array identity{o.name,     r.source, e.attack_type,           r.techniques,  e.sigma_rule.value_or(""),
                                e.severity, e.region, e.industry.value_or(""), e.occurred_at, r.details};
    for (const auto& key : e.related_iocs) identity.emplace_back(key.normalized);
    r.hash = security::sha256_hex(boost::json::serialize(identity));
    rows.push_back(std::move(r));
  }
  return db_.write_locking([&](store::Connection& c) {
    IngestResult result;
    const std::string now = common::rfc3339_now();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      const auto& r = rows[i];
      if (auto stored = c.query_text(kEventByHash, r.hash)) {  // earlier in this batch too
        ++result.duplicates;
        result.ids.push_back(std::move(*stored));
        continue;
      }
      std::string id = ordered_id("evt_");
      auto source_key = classify(r.source, IocType::Ip);
      std::vector<std::string> tags{"threat-event"};
      boost::json::object metadata;
      if (anonymize) {
        tags.emplace_back("anonymized");
        metadata["prefixLength"] = r.source.find(':') == std::string::npos ? 16 : 48;
      }
      IocTouch touch{&*source_key,  r.source,  e.attack_type, e.techniques,
                     tags,          r.country, metadata,      severity_reputation(e.severity),
                     e.occurred_at, id};
      auto [ioc_id, created] = touch_ioc(c, touch, o, by, now);
      (created ? result.iocs_created : result.iocs_updated) += 1;
      for (const auto& key : e.related_iocs) {
        IocTouch related{&key,
                         key.normalized,
                         e.attack_type,
                         e.techniques,
                         {"threat-event"},
                         std::nullopt,
                         {},
                         severity_reputation(e.severity),
                         e.occurred_at,
                         id};
        (touch_ioc(c, related, o, by, now).second ? result.iocs_created : result.iocs_updated) += 1;
      }
      if (c.execute(kInsertEvent, id, r.hash, o.name, r.source, anonymize ? 1 : 0, e.attack_type, r.techniques,
                    e.sigma_rule, e.severity, e.region, e.industry, r.country, e.occurred_at, now, by.key_id,
                    r.details, ioc_id) == 0)
        lost_race("the same event");
      ++result.accepted;
      result.ids.push_back(std::move(id));
    }
    boost::json::object audit{{"accepted", result.accepted}, {"duplicates", result.duplicates}};
    if (anonymize) audit["anonymized"] = true;
    record_audit(c, by, o.audit_action, "threat_event", result.ids.size() == 1 ? result.ids.front() : "", audit);
    return result;
  });
}

std::pair<std::vector<ThreatEvent>, std::int64_t> ThreatEvents::for_ioc(store::Connection& c, std::string_view ioc_id,
                                                                        std::int64_t limit) {
  static const std::string sql = "SELECT " + std::string(kEventColumns) + std::string(kEventsForIoc);
  std::vector<ThreatEvent> out;
  {
    auto q = c.prepare(sql);
    q->bind_all(ioc_id, limit);
    while (q->step()) out.push_back(read_event(*q));
  }
  // Fewer than `limit` rows are all there is: no count needed (most IoCs have no events).
  auto total = static_cast<std::int64_t>(out.size());
  if (total >= limit) total = c.query_int(kCountForIoc, ioc_id).value_or(0);
  return std::pair{std::move(out), total};
}

}  // namespace tc
