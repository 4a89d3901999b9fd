#include "admin/audit.hpp"

#include <boost/json/serialize.hpp>

#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn::audit {

namespace {
constexpr std::string_view kInsert =
    "INSERT INTO audit_log (id, at, action, org_id, user_id, actor_id, token_id, ip, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kFilter =
    " FROM audit_log WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR org_id = ?2) "
    "AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)";

std::optional<std::string_view> or_null(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return s;
}
}  // namespace

void record(store::Connection& db, std::string_view action, const Actor& actor, std::string_view org_id,
            std::string_view subject_user, const boost::json::object& detail, std::optional<std::int64_t> at) {
  db.execute(kInsert, security::uuid_v4(), at.value_or(store::unix_now()), action, or_null(org_id), or_null(subject_user),
             or_null(actor.user_id), or_null(actor.token_id), actor.ip, boost::json::serialize(detail));
}

std::pair<std::vector<Entry>, std::int64_t> list(store::Connection& db, const Filter& f, std::int64_t limit,
                                                 std::int64_t offset) {
  std::string count_sql = "SELECT COUNT(*)" + std::string(kFilter);
  std::int64_t total = db.query_int(count_sql, f.action, f.org_id, f.actor_id, f.from, f.to).value_or(0);
  std::string page_sql = "SELECT id, at, action, org_id, user_id, actor_id, token_id, ip, detail" +
                         std::string(kFilter) + " ORDER BY seq DESC LIMIT ?6 OFFSET ?7";
  auto q = db.prepare(page_sql);
  q->bind_all(f.action, f.org_id, f.actor_id, f.from, f.to, limit, offset);
  std::vector<Entry> out;
  while (q->step())
    out.push_back({q->text(0), q->int64(1), q->text(2), q->text_or_null(3), q->text_or_null(4), q->text_or_null(5),
                   q->text_or_null(6), q->text(7), q->text(8)});
  return {std::move(out), total};
}

}  // namespace shardlyn::audit
