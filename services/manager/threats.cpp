#include "threats.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "store/ordered_id.hpp"

namespace manager {

namespace {

constexpr const char* kColumns =
    "id, agent_id, event_id, occurred_at, received_at, source, severity, original_severity, category, description, "
    "raw, host, metadata, conclusion, confidence, action, source_ip, file_hash";

std::optional<std::string> first_string(const boost::json::object& metadata, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (auto* v = metadata.if_contains(key); v && v->is_string() && !v->as_string().empty())
      return std::string(v->as_string());
  return std::nullopt;
}

// Threat ids correlated with `id`, in a stable order.
std::vector<std::string> links_of(store::Connection& c, const std::string& id) {
  auto q = c.prepare("SELECT related_id FROM threat_links WHERE threat_id = ? ORDER BY related_id");
  q->bind_all(id);
  std::vector<std::string> out;
  while (q->step()) out.push_back(q->text(0));
  return out;
}

// A threat from a row selected with kColumns, with its links.
Threat threat_from(store::Connection& c, const store::Statement& row) {
  Threat t{.id = row.text(0),
           .agent_id = row.text(1),
           .event_id = row.text(2),
           .occurred_at = row.int64(3),
           .received_at = row.int64(4),
           .source = row.text(5),
           .severity = row.text(6),
           .original_severity = row.text(7),
           .category = row.text(8),
           .description = row.text(9),
           .raw = row.text_or_null(10),
           .host = row.text_or_null(11),
           .metadata = boost::json::parse(row.text(12)).as_object(),
           .conclusion = row.text(13),
           .confidence = row.int64(14),
           .action = row.text_or_null(15),
           .source_ip = row.text_or_null(16),
           .file_hash = row.text_or_null(17)};
  t.correlated_with = links_of(c, t.id);
  return t;
}

std::optional<Threat> load(store::Connection& c, const std::string& id) {
  auto q = c.prepare(std::string("SELECT ") + kColumns + " FROM threats WHERE id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return threat_from(c, *q);
}

std::vector<KeyCount> counts(store::Connection& c, const std::string& sql, std::int64_t since) {
  auto q = c.prepare(sql);
  q->bind_all(since);
  std::vector<KeyCount> out;
  while (q->step()) out.push_back({q->text(0), q->int64(1)});
  return out;
}

}  // namespace

std::optional<std::string> Threats::source_ip_of(const boost::json::object& metadata) {
  auto raw = first_string(metadata, {"sourceIP", "remoteAddress", "src_ip", "source_ip", "attacker_ip", "client_ip"});
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(*raw, ec);
  if (ec) return std::nullopt;  // not an address: nothing to correlate on
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

std::optional<std::string> Threats::file_hash_of(const boost::json::object& metadata) {
  auto raw = first_string(metadata, {"sha256", "sha1", "md5", "fileHash", "hash", "malwareHash"});
  if (!raw || (raw->size() != 32 && raw->size() != 40 && raw->size() != 64)) return std::nullopt;
  std::string hash;
  for (char ch : *raw) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    hash.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return hash;
}

namespace {

const std::string kInsert = "INSERT INTO threats (" + std::string(kColumns) +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (agent_id, event_id) DO NOTHING";

// Other agents' threats in a time window sharing an indicator: two index ranges (agents before
// and after this one) instead of `agent_id != ?`.
std::string related_by(const std::string& column) {
  return "SELECT id, agent_id FROM threats WHERE " + column +
         " = ?1 AND agent_id < ?2 AND occurred_at BETWEEN ?3 AND ?4 UNION ALL SELECT id, agent_id FROM threats "
         "WHERE " +
         column + " = ?1 AND agent_id > ?2 AND occurred_at BETWEEN ?3 AND ?4";
}
const std::string kRelatedByIp = related_by("source_ip");
const std::string kRelatedByHash = related_by("file_hash");
// (ON CONFLICT DO NOTHING, not INSERT OR IGNORE: the same text on both backends.)
constexpr std::string_view kLink =
    "INSERT INTO threat_links (threat_id, related_id, reason) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";

}  // namespace

Threats::Ingested Threats::ingest(const std::string& agent_id, const std::vector<ThreatReport>& reports) {
  std::int64_t now = common::unix_seconds();
  return db_.write([&](store::Connection& c) {
    Ingested out;
    for (const auto& r : reports) {
      std::string id = store::ordered_id("th-", 12);  // appends to the primary key
      auto ip = source_ip_of(r.metadata);
      auto hash = file_hash_of(r.metadata);
      // The UNIQUE (agent_id, event_id) constraint makes a retried event a no-op.
      int inserted = c.execute(kInsert, id, agent_id, r.event_id, r.occurred_at, now, r.source, r.severity, r.severity,
                               r.category, r.description, r.raw, r.host, boost::json::serialize(r.metadata),
                               r.conclusion, r.confidence, r.action, ip, hash);
      if (inserted == 0) {
        ++out.duplicates;
        continue;
      }
      ++out.accepted;
      std::string severity = r.severity;
      std::vector<std::string> correlated;

      // Link to other agents' threats in the window that share an indicator. Threats of one
      // batch come from one agent, so nothing later in the batch changes this one.
      for (auto [reason, sql, value] :
           {std::tuple{"source_ip", &kRelatedByIp, ip}, std::tuple{"file_hash", &kRelatedByHash, hash}}) {
        if (!value) continue;
        std::vector<std::string> related;
        std::vector<std::string> agents{agent_id};
        {
          auto q = c.prepare(*sql);
          q->bind_all(*value, agent_id, r.occurred_at - settings_.correlation_window_s,
                      r.occurred_at + settings_.correlation_window_s);
          while (q->step()) {
            related.push_back(q->text(0));
            agents.push_back(q->text(1));
          }
        }
        if (related.empty()) continue;
        for (const auto& other : related) {
          c.execute(kLink, id, other, reason);
          c.execute(kLink, other, id, reason);
          out.correlated.push_back(other);
          if (std::find(correlated.begin(), correlated.end(), other) == correlated.end()) correlated.push_back(other);
        }
        std::sort(agents.begin(), agents.end());
        agents.erase(std::unique(agents.begin(), agents.end()), agents.end());
        if (static_cast<std::int64_t>(agents.size()) >= settings_.escalate_at_agents) {
          severity = "critical";
          c.execute("UPDATE threats SET severity = 'critical' WHERE id = ?", id);
          for (const auto& other : related) c.execute("UPDATE threats SET severity = 'critical' WHERE id = ?", other);
        }
      }
      std::sort(correlated.begin(), correlated.end());
      out.threats.push_back(Threat{.id = id,
                                   .agent_id = agent_id,
                                   .event_id = r.event_id,
                                   .occurred_at = r.occurred_at,
                                   .received_at = now,
                                   .source = r.source,
                                   .severity = severity,
                                   .original_severity = r.severity,
                                   .category = r.category,
                                   .description = r.description,
                                   .raw = r.raw,
                                   .host = r.host,
                                   .metadata = r.metadata,
                                   .conclusion = r.conclusion,
                                   .confidence = r.confidence,
                                   .action = r.action,
                                   .source_ip = ip,
                                   .file_hash = hash,
                                   .correlated_with = std::move(correlated)});
    }
    return out;
  });
}

std::pair<std::vector<Threat>, std::int64_t> Threats::list(const ThreatFilter& f) {
  std::string where = " WHERE 1 = 1";
  if (f.since) where += " AND occurred_at >= :since";
  if (f.until) where += " AND occurred_at <= :until";
  if (f.severity) where += " AND severity = :severity";
  if (f.category) where += " AND category = :category";
  if (f.agent_id) where += " AND agent_id = :agent";
  if (f.conclusion) where += " AND conclusion = :conclusion";
  auto bind = [&](store::Statement& s) {
    if (f.since) s.bind(":since", *f.since);
    if (f.until) s.bind(":until", *f.until);
    if (f.severity) s.bind(":severity", *f.severity);
    if (f.category) s.bind(":category", *f.category);
    if (f.agent_id) s.bind(":agent", *f.agent_id);
    if (f.conclusion) s.bind(":conclusion", *f.conclusion);
  };
  return db_.read([&](store::Connection& c) {
    std::int64_t total = 0;
    {
      auto count = c.prepare("SELECT count(*) FROM threats" + where);
      bind(*count);
      count->step();
      total = count->int64(0);
    }
    std::vector<std::string> ids;
    {
      auto q =
          c.prepare("SELECT id FROM threats" + where + " ORDER BY occurred_at DESC, id LIMIT :limit OFFSET :offset");
      bind(*q);
      q->bind(":limit", f.page.limit);
      q->bind(":offset", f.page.offset());
      while (q->step()) ids.push_back(q->text(0));
    }
    std::vector<Threat> items;
    for (const auto& id : ids) items.push_back(*load(c, id));
    return std::make_pair(std::move(items), total);
  });
}

std::optional<Threat> Threats::find(const std::string& id) {
  return db_.read([&](store::Connection& c) { return load(c, id); });
}

ThreatSummary Threats::summary(std::int64_t since) {
  return db_.read([&](store::Connection& c) {
    ThreatSummary s;
    s.since = since;
    s.total = c.query_int("SELECT count(*) FROM threats WHERE occurred_at >= ?", since).value_or(0);
    s.by_severity = counts(c, "SELECT severity, count(*) FROM threats WHERE occurred_at >= ? GROUP BY severity", since);
    s.by_category = counts(c, "SELECT category, count(*) FROM threats WHERE occurred_at >= ? GROUP BY category", since);
    s.top_agents = counts(c,
                          "SELECT agent_id, count(*) AS n FROM threats WHERE occurred_at >= ? GROUP BY agent_id "
                          "ORDER BY n DESC, agent_id LIMIT 10",
                          since);
    s.top_source_ips = counts(c,
                              "SELECT source_ip, count(*) AS n FROM threats WHERE occurred_at >= ? AND source_ip IS "
                              "NOT NULL GROUP BY source_ip ORDER BY n DESC, source_ip LIMIT 10",
                              since);
    // A correlated group: one shared indicator (source IP or file hash) seen on 2+ agents.
    s.correlated_groups =
        c.query_int(
             "SELECT (SELECT count(*) FROM (SELECT 1 FROM threats WHERE occurred_at >= ?1 AND source_ip IS NOT NULL "
             "GROUP BY source_ip HAVING count(DISTINCT agent_id) >= 2) AS by_ip) + (SELECT count(*) FROM (SELECT 1 FROM threats "
             "WHERE occurred_at >= ?1 AND file_hash IS NOT NULL GROUP BY file_hash HAVING count(DISTINCT agent_id) >= "
             "2) AS by_hash)",
             since)
            .value_or(0);
    return s;
  });
}

std::vector<TimelineBucket> Threats::timeline(std::int64_t since, std::int64_t bucket_s) {
  std::int64_t start = since - since % bucket_s;
  std::int64_t now = common::unix_seconds();
  std::vector<std::int64_t> counts(static_cast<std::size_t>((now - start) / bucket_s + 1), 0);
  db_.read([&](store::Connection& c) {
    auto q = c.prepare(
        "SELECT (occurred_at - ?1) / ?2, count(*) FROM threats WHERE occurred_at >= ?1 AND occurred_at <= ?3 GROUP BY "
        "1");
    q->bind_all(start, bucket_s, now);
    while (q->step()) {
      auto i = q->int64(0);
      if (i >= 0 && i < static_cast<std::int64_t>(counts.size())) counts[static_cast<std::size_t>(i)] = q->int64(1);
    }
  });
  std::vector<TimelineBucket> out;
  for (std::size_t i = 0; i < counts.size(); ++i)
    out.push_back({.start = start + static_cast<std::int64_t>(i) * bucket_s, .count = counts[i]});
  return out;
}

std::int64_t Threats::purge_expired() {
  std::int64_t cutoff = common::unix_seconds() - settings_.retention_days * 86400;
  return db_.write(
      [&](store::Connection& c) { return c.execute("DELETE FROM threats WHERE received_at < ?", cutoff); });
}

}  // namespace manager
