#include "rules.hpp"

#include "common/clock.hpp"

namespace tc {

namespace {

constexpr std::string_view kExists = "SELECT 1 FROM rules WHERE rule_id = ?";
constexpr std::string_view kUpsert =
    "INSERT INTO rules (rule_id, rule_content, source, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (rule_id) DO UPDATE SET rule_content = excluded.rule_content, source = excluded.source, "
    "updated_at = excluded.updated_at";
constexpr std::string_view kFilter = " WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR updated_at >= ?2)";

}  // namespace

RuleUpsert Rules::save(const std::vector<Rule>& rules, const Actor& by) {
  return db_.write([&](store::Connection& c) {
    RuleUpsert result;
    std::string now = common::rfc3339_now();
    for (const auto& r : rules) {
      bool exists = c.query_int(kExists, r.rule_id).has_value();
      c.execute(kUpsert, r.rule_id, r.content, r.source, now, now, by.key_id);
      ++(exists ? result.updated : result.created);
    }
    record_audit(c, by, "rule.upload", "rule", rules.size() == 1 ? rules.front().rule_id : "",
                 {{"created", result.created}, {"updated", result.updated}});
    return result;
  });
}

std::pair<std::vector<Rule>, std::int64_t> Rules::list(const std::optional<std::string>& source,
                                                       const std::optional<std::string>& since, std::int64_t limit,
                                                       std::int64_t offset) const {
  return db_.read([&](store::Connection& c) {
    std::int64_t total = c.query_int("SELECT count(*) FROM rules" + std::string(kFilter), source, since).value_or(0);
    auto q = c.prepare("SELECT rule_id, rule_content, source, created_at, updated_at FROM rules" +
                       std::string(kFilter) + " ORDER BY rule_id LIMIT ?3 OFFSET ?4");
    q->bind_all(source, since, limit, offset);
    std::vector<Rule> out;
    while (q->step()) out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->text(4)});
    return std::pair{std::move(out), total};
  });
}

}  // namespace tc
