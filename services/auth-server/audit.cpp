#include "audit.hpp"

#include <boost/json/serialize.hpp>

#include "security/random.hpp"
#include "store/time.hpp"

namespace auth::audit {

namespace {
constexpr std::string_view kInsert =
    "INSERT INTO audit_log (id, at, action, user_id, actor_id, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kFilter =
    " FROM audit_log WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR actor_id = ?2) "
    "AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)";
}  // namespace

void record(store::Connection& db, std::string_view action, std::string_view user_id, std::string_view ip,
            const boost::json::object& detail, std::string_view actor_id) {
  std::optional<std::string_view> user, actor;
  if (!user_id.empty()) user = user_id;
  if (!actor_id.empty())
    actor = actor_id;
  else if (!user_id.empty())
    actor = user_id;
  db.execute(kInsert, security::random_id("aud_", 24), store::unix_now(), action, user, actor, ip,
             boost::json::serialize(detail));
}

std::pair<std::vector<Entry>, std::int64_t> list(store::Connection& db, const Filter& f, std::int64_t limit,
                                                 std::int64_t offset) {
  std::string count_sql = "SELECT COUNT(*)" + std::string(kFilter);
  std::int64_t total = db.query_int(count_sql, f.action, f.actor_id, f.user_id, f.from, f.to).value_or(0);
  std::string page_sql = "SELECT id, at, action, user_id, actor_id, ip, detail" + std::string(kFilter) +
                         " ORDER BY seq DESC LIMIT ?6 OFFSET ?7";
  auto q = db.prepare(page_sql);
  q->bind_all(f.action, f.actor_id, f.user_id, f.from, f.to, limit, offset);
  std::vector<Entry> out;
  while (q->step())
    out.push_back(
        {q->text(0), q->int64(1), q->text(2), q->text_or_null(3), q->text_or_null(4), q->text(5), q->text(6)});
  return {std::move(out), total};
}

}  // namespace auth::audit
