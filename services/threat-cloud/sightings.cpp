#include "sightings.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "security/random.hpp"

namespace tc {

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO sightings (id, ioc_id, kind, source, note, observed_at, created_at, reported_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kApply =
    "UPDATE iocs SET sightings = ?, last_seen = ?, confidence = ?, status = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kCount = "SELECT count(*) FROM sightings WHERE ioc_id = ?";
constexpr std::string_view kList =
    "SELECT id, ioc_id, kind, source, note, observed_at, created_at, reported_by FROM sightings "
    "WHERE ioc_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?";
constexpr std::string_view kExists = "SELECT 1 FROM iocs WHERE id = ?";

constexpr int kPositiveStep = 5;
constexpr int kNegativeStep = 5;
constexpr int kFalsePositiveStep = 20;

}  // namespace

std::optional<std::pair<Sighting, Ioc>> Sightings::record(std::string_view ioc_id, const NewSighting& s,
                                                          const Actor& by) {
  return db_.write([&](store::Connection& c) -> std::optional<std::pair<Sighting, Ioc>> {
    auto ioc = load_ioc(c, ioc_id);
    if (!ioc) return std::nullopt;
    const std::string now = common::rfc3339_now();
    Sighting row{.id = security::random_id("sgt_", 16),
                 .ioc_id = ioc->id,
                 .kind = s.kind,
                 .source = s.source,
                 .note = s.note,
                 .observed_at = s.observed_at.value_or(now),
                 .created_at = now,
                 .reported_by = by.key_id};
    std::int64_t count = ioc->sightings;
    std::string last_seen = ioc->last_seen;
    int confidence = ioc->confidence;
    std::string status = ioc->status;
    if (s.kind == "positive") {
      ++count;
      last_seen = std::max(last_seen, row.observed_at);
      confidence = std::min(100, confidence + kPositiveStep);
      if (status == "expired") status = "active";
    } else if (s.kind == "negative") {
      confidence = std::max(0, confidence - kNegativeStep);
    } else {
      confidence = std::max(0, confidence - kFalsePositiveStep);
      if (status == "active") status = "under_review";
    }
    c.execute(kApply, count, last_seen, confidence, status, now, ioc->id);
    c.execute(kInsert, row.id, row.ioc_id, row.kind, row.source, row.note, row.observed_at, row.created_at,
              row.reported_by);
    record_audit(c, by, "ioc.sighting", "ioc", ioc->id, {{"sighting", row.id}, {"kind", row.kind}});
    auto updated = load_ioc(c, ioc->id);
    return std::pair{std::move(row), std::move(*updated)};
  });
}

std::optional<std::pair<std::vector<Sighting>, std::int64_t>> Sightings::list(std::string_view ioc_id,
                                                                              std::int64_t limit,
                                                                              std::int64_t offset) const {
  return db_.read([&](store::Connection& c) -> std::optional<std::pair<std::vector<Sighting>, std::int64_t>> {
    if (!c.query_int(kExists, ioc_id)) return std::nullopt;
    std::int64_t total = c.query_int(kCount, ioc_id).value_or(0);
    std::vector<Sighting> out;
    auto q = c.prepare(kList);
    q->bind_all(ioc_id, limit, offset);
    while (q->step())
      out.push_back(Sighting{.id = q->text(0),
                             .ioc_id = q->text(1),
                             .kind = q->text(2),
                             .source = q->text(3),
                             .note = q->text_or_null(4),
                             .observed_at = q->text(5),
                             .created_at = q->text(6),
                             .reported_by = q->text(7)});
    return std::pair{std::move(out), total};
  });
}

}  // namespace tc
