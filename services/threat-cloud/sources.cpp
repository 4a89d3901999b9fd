#include "sources.hpp"

#include "common/clock.hpp"

namespace tc {

namespace {

constexpr std::string_view kUpsert =
    "INSERT INTO sources (name, reliability, licence, redistribution, url, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET reliability = excluded.reliability, "
    "licence = excluded.licence, redistribution = excluded.redistribution, url = excluded.url, "
    "updated_at = excluded.updated_at";
constexpr std::string_view kSelect =
    "SELECT name, reliability, licence, redistribution, url, created_at, updated_at FROM sources WHERE name = ?";
// Sources named by IoCs appear too (without a record they may be redistributed).
constexpr std::string_view kList =
    "SELECT n.name, s.reliability, s.licence, s.redistribution, s.url, s.created_at, s.updated_at, "
    "(SELECT count(*) FROM iocs WHERE iocs.source = n.name) FROM "
    "(SELECT name FROM sources UNION SELECT DISTINCT source FROM iocs) AS n LEFT JOIN sources s ON s.name = n.name "
    "ORDER BY n.name LIMIT 1000";

Source read_source(const store::Statement& q) {
  return {.name = q.text(0),
          .reliability = q.is_null(1) ? "F" : q.text(1),
          .licence = q.text(2),
          .redistribution = q.is_null(3) || q.int64(3) != 0,
          .url = q.text(4),
          .created_at = q.text(5),
          .updated_at = q.text(6)};
}

}  // namespace

void save_source(store::Connection& c, const Source& s) {
  std::string now = common::rfc3339_now();
  c.execute(kUpsert, s.name, s.reliability, s.licence, s.redistribution, s.url, now, now);
}

Source Sources::save(const Source& s, const Actor& by) {
  return db_.write([&](store::Connection& c) {
    save_source(c, s);
    record_audit(c, by, "source.save", "source", s.name,
                 {{"reliability", s.reliability}, {"licence", s.licence}, {"redistribution", s.redistribution}});
    auto q = c.prepare(kSelect);
    q->bind_all(s.name);
    q->step();
    return read_source(*q);
  });
}

std::vector<Source> Sources::list() const {
  return db_.read([&](store::Connection& c) {
    std::vector<Source> out;
    auto q = c.prepare(kList);
    while (q->step()) {
      out.push_back(read_source(*q));
      out.back().iocs = q->int64(7);
    }
    return out;
  });
}

}  // namespace tc
