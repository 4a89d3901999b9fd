#include "audit.hpp"

#include <arpa/inet.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "iocs.hpp"

namespace tc {

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO audit_log (id, at, actor, ip, action, entity_type, entity_id, details) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
// Each filter is "(? IS NULL OR column = ?)" with the same value bound twice, so one
// statement serves every combination.
constexpr std::string_view kWhere =
    " WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR entity_type = ?2) AND (?3 IS NULL OR entity_id = ?3)"
    " AND (?4 IS NULL OR at >= ?4)";
constexpr std::string_view kCountPrefix = "SELECT count(*) FROM audit_log";
constexpr std::string_view kListPrefix =
    "SELECT id, at, actor, ip, action, entity_type, entity_id, details FROM audit_log";
constexpr std::string_view kListSuffix = " ORDER BY seq DESC LIMIT ?5 OFFSET ?6";

}  // namespace

std::string anonymize_ip(std::string_view ip) {
  std::string text(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    auto* b = reinterpret_cast<unsigned char*>(&v4);
    b[3] = 0;
    char out[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &v4, out, sizeof out) ? out : "unknown";
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    for (int i = 6; i < 16; ++i) v6.s6_addr[i] = 0;
    char out[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, &v6, out, sizeof out) ? out : "unknown";
  }
  return "unknown";
}

void record_audit(store::Connection& c, const Actor& actor, std::string_view action, std::string_view entity_type,
                  std::string_view entity_id, const boost::json::object& details) {
  c.execute(kInsert, ordered_id("aud_"), common::rfc3339_now(), actor.key_id, anonymize_ip(actor.ip),
            action, entity_type, entity_id, boost::json::serialize(details));
}

std::pair<std::vector<AuditEntry>, std::int64_t> AuditLog::list(const AuditFilter& f, std::int64_t limit,
                                                                std::int64_t offset) const {
  static const std::string count_sql = std::string(kCountPrefix) + std::string(kWhere);
  static const std::string list_sql = std::string(kListPrefix) + std::string(kWhere) + std::string(kListSuffix);
  auto bind_filters = [&](store::Statement& q) {
    q.bind(1, f.action);
    q.bind(2, f.entity_type);
    q.bind(3, f.entity_id);
    q.bind(4, f.since);
  };
  return db_.read([&](store::Connection& c) {
    std::int64_t total = 0;
    {
      auto q = c.prepare(count_sql);
      bind_filters(*q);
      if (q->step()) total = q->int64(0);
    }
    std::vector<AuditEntry> out;
    auto q = c.prepare(list_sql);
    bind_filters(*q);
    q->bind(5, limit);
    q->bind(6, offset);
    while (q->step()) {
      AuditEntry e{.id = q->text(0),
                   .at = q->text(1),
                   .actor = q->text(2),
                   .ip = q->text(3),
                   .action = q->text(4),
                   .entity_type = q->text(5),
                   .entity_id = q->text(6)};
      boost::system::error_code ec;
      auto details = boost::json::parse(q->text(7), ec);
      if (!ec && details.is_object()) e.details = std::move(details.as_object());
      out.push_back(std::move(e));
    }
    return std::pair{std::move(out), total};
  });
}

}  // namespace tc
