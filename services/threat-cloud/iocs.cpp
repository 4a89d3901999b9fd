#include "iocs.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "json_text.hpp"
#include "store/ordered_id.hpp"

namespace tc {

namespace {

#define TC_IOC_COLUMNS                                                                                        \
  "id, type, value, normalized_value, threat_type, source, source_reliability, confidence, reputation, tlp, " \
  "first_seen, last_seen, sightings, status, tags, mitre_techniques, country, asn, metadata, created_at, updated_at"

constexpr std::string_view kSelectByKey = "SELECT " TC_IOC_COLUMNS " FROM iocs WHERE type = ? AND normalized_value = ?";
constexpr std::string_view kSelectById = "SELECT " TC_IOC_COLUMNS " FROM iocs WHERE id = ?";
// One row of a multi-row insert of new IoCs (see insert_sql).
constexpr std::string_view kRowParameters = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kMerge =
    "UPDATE iocs SET threat_type = ?, source = ?, source_reliability = ?, confidence = ?, reputation = ?, tlp = ?, "
    "first_seen = ?, last_seen = ?, sightings = sightings + 1, status = ?, tags = ?, mitre_techniques = ?, "
    "country = ?, asn = ?, metadata = ?, updated_at = ? WHERE id = ?";
constexpr std::string_view kPatch =
    "UPDATE iocs SET status = coalesce(?, status), tlp = coalesce(?, tlp), tags = coalesce(?, tags), "
    "confidence = coalesce(?, confidence), updated_at = ? WHERE id = ? RETURNING " TC_IOC_COLUMNS;
constexpr std::string_view kExpire =
    "UPDATE iocs SET status = 'expired', updated_at = ? WHERE status = 'active' AND last_seen < ?";
constexpr std::string_view kListColumns = "SELECT " TC_IOC_COLUMNS " FROM iocs";
constexpr std::string_view kCount = "SELECT count(*) FROM iocs";

// Bounds on what merging uploads may accumulate in one IoC.
constexpr std::size_t kMaxStoredTags = 100;
constexpr std::size_t kMaxStoredMetadata = 64 * 1024;

// Adds the items of `more` not yet in `into`, keeping the order of first appearance.
void merge_list(std::vector<std::string>& into, const std::vector<std::string>& more) {
  for (const auto& s : more)
    if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
}

}  // namespace

const std::string_view kIocColumns = TC_IOC_COLUMNS;

Ioc read_ioc(const store::Statement& q, bool parse_json) {
  Ioc i;
  i.id = q.text(0);
  i.type = parse_type(q.text(1)).value_or(IocType::Ip);
  i.value = q.text(2);
  i.normalized_value = q.text(3);
  i.threat_type = q.text(4);
  i.source = q.text(5);
  i.source_reliability = q.text(6);
  i.confidence = static_cast<int>(q.int64(7));
  i.reputation = static_cast<int>(q.int64(8));
  i.tlp = q.text(9);
  i.first_seen = q.text(10);
  i.last_seen = q.text(11);
  i.sightings = q.int64(12);
  i.status = q.text(13);
  if (parse_json) {
    i.tags = parse_list(q.text(14));
    i.mitre_techniques = parse_list(q.text(15));
    i.metadata = parse_object(q.text(18));
  } else {
    i.tags_text = q.text(14);
    i.mitre_techniques_text = q.text(15);
    i.metadata_text = q.text(18);
  }
  i.country = q.text_or_null(16);
  i.asn = q.int64_or_null(17);
  i.created_at = q.text(19);
  i.updated_at = q.text(20);
  return i;
}

namespace {

std::optional<Ioc> select_by_key(store::Connection& c, const Classified& key, bool parse_json = true) {
  auto q = c.prepare(kSelectByKey);
  q->bind_all(type_name(key.type), key.normalized);
  if (!q->step()) return std::nullopt;
  return read_ioc(*q, parse_json);
}

// Rows per multi-row insert: 21 parameters each, far below SQLite's limit of 32766.
constexpr std::size_t kInsertRows = 50;

std::string insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO iocs (" TC_IOC_COLUMNS ") VALUES ";
  for (std::size_t r = 0; r < rows; ++r) sql += r ? ", " + std::string(kRowParameters) : std::string(kRowParameters);
  return sql + " ON CONFLICT DO NOTHING RETURNING id";
}

template <class... A>
void bind_at(store::Statement& q, int& index, A&&... args) {
  (q.bind(++index, std::forward<A>(args)), ...);
}

// Binds the 21 columns of a new IoC from a submission, from parameter index + 1 on.
void bind_new(store::Statement& q, int& index, const std::string& id, const IocSubmission& s, const std::string& now) {
  const std::string& first = s.first_seen ? *s.first_seen : s.last_seen ? *s.last_seen : now;
  std::vector<std::string> tags, techniques;
  merge_list(tags, s.tags);
  merge_list(techniques, s.mitre_techniques);
  bind_at(q, index, id, type_name(s.classified.type), s.value, s.classified.normalized,
          s.threat_type.value_or("unknown"), s.source.value_or("api"), s.source_reliability.value_or("F"),
          s.confidence.value_or(50), s.reputation.value_or(50), s.tlp.value_or("clear"), first,
          s.last_seen.value_or(std::max(first, now)), std::int64_t{1}, s.status.value_or("active"), json_list(tags),
          json_list(techniques), s.country, s.asn, s.metadata ? boost::json::serialize(*s.metadata) : std::string("{}"),
          now, now);
}

std::string_view sort_column(std::string_view field) {
  if (field == "firstSeen") return "first_seen";
  if (field == "reputation") return "reputation";
  if (field == "confidence") return "confidence";
  if (field == "sightings") return "sightings";
  if (field == "value") return "normalized_value";
  if (field == "createdAt") return "created_at";
  return "last_seen";
}

std::string like_pattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

std::optional<Ioc> load_ioc(store::Connection& c, std::string_view id) {
  auto q = c.prepare(kSelectById);
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return read_ioc(*q);
}

std::string ordered_id(std::string_view prefix) {
  // Appends to the id index; upsert() retries when another process took an id.
  return store::ordered_id(prefix, 16);
}

std::string new_ioc_id() { return ordered_id("ioc_"); }

std::string_view verdict_of(const Ioc* ioc) {
  if (!ioc) return "unknown";
  if (ioc->status == "revoked") return "clean";
  if (ioc->status == "expired") return "expired";
  if (ioc->reputation >= 70) return "malicious";
  if (ioc->reputation >= 40) return "suspicious";
  return "low_risk";
}

UpsertResult Iocs::upsert(const std::vector<IocSubmission>& submissions, const Actor& by) {
  return db_.write([&](store::Connection& c) {
    UpsertResult result;
    result.ids.resize(submissions.size());
    const std::string now = common::rfc3339_now();
    // New IoCs go in with multi-row inserts (one statement per kInsertRows rows: the table's
    // CHECK lists are built once per statement, not per row). Rows whose key exists already
    // (in the table or earlier in this batch) are skipped there and merged afterwards, in order.
    std::vector<std::size_t> existing;
    std::unordered_set<std::string> inserted;
    for (std::size_t from = 0; from < submissions.size(); from += kInsertRows) {
      const std::size_t rows = std::min(kInsertRows, submissions.size() - from);
      auto insert = c.prepare(insert_sql(rows));
      int index = 0;
      for (std::size_t k = from; k < from + rows; ++k) {
        result.ids[k] = new_ioc_id();
        bind_new(*insert, index, result.ids[k], submissions[k], now);
      }
      inserted.clear();
      while (insert->step()) inserted.insert(insert->text(0));
      for (std::size_t k = from; k < from + rows; ++k) {
        if (inserted.contains(result.ids[k]))
          ++result.created;
        else
          existing.push_back(k);
      }
    }
    for (std::size_t k : existing) {
      const auto& s = submissions[k];
      auto found = select_by_key(c, s.classified);
      if (!found) {
        // The key is free, so the id was taken (another process's id in the same millisecond).
        bool created = false;
        for (int attempt = 0; !created && attempt < 4; ++attempt) {
          auto insert = c.prepare(insert_sql(1));
          int index = 0;
          result.ids[k] = new_ioc_id();
          bind_new(*insert, index, result.ids[k], s, now);
          created = insert->step();
        }
        if (!created) throw std::runtime_error("no free IoC id after 4 attempts");
        ++result.created;
        continue;
      }
      Ioc& e = *found;
      merge_list(e.tags, s.tags);
      merge_list(e.mitre_techniques, s.mitre_techniques);
      if (s.metadata)
        for (const auto& [k, v] : *s.metadata) e.metadata[k] = v;
      std::string metadata = boost::json::serialize(e.metadata);
      // Merging must not let one IoC grow without bound over many uploads.
      if (e.tags.size() > kMaxStoredTags || e.mitre_techniques.size() > kMaxStoredTags)
        throw common::ApiError::validation("'tags' and 'mitreTechniques' of " + s.classified.normalized +
                                           " would exceed " + std::to_string(kMaxStoredTags) + " items");
      if (metadata.size() > kMaxStoredMetadata)
        throw common::ApiError::validation("'metadata' of " + s.classified.normalized + " would exceed " +
                                           std::to_string(kMaxStoredMetadata / 1024) + " KiB");
      std::string seen = s.last_seen.value_or(now);
      std::string first = std::min(e.first_seen, s.first_seen.value_or(seen));
      std::string last = std::max(e.last_seen, seen);
      // A new upload revives an expired IoC; revoked and under_review need a decision.
      std::string status = s.status.value_or(e.status == "expired" ? "active" : e.status);
      c.execute(kMerge, s.threat_type.value_or(e.threat_type), s.source.value_or(e.source),
                s.source_reliability.value_or(e.source_reliability), s.confidence.value_or(e.confidence),
                s.reputation.value_or(e.reputation), s.tlp.value_or(e.tlp), first, last, status, json_list(e.tags),
                json_list(e.mitre_techniques), s.country ? s.country : e.country, s.asn ? s.asn : e.asn, metadata, now,
                e.id);
      ++result.updated;
      result.ids[k] = e.id;
    }
    boost::json::object details{{"created", result.created}, {"updated", result.updated}};
    if (result.ids.size() <= 20) {
      boost::json::array ids;
      for (const auto& id : result.ids) ids.emplace_back(id);
      details["ids"] = std::move(ids);
    }
    record_audit(c, by, "ioc.upload", "ioc", result.ids.size() == 1 ? result.ids.front() : "", details);
    return result;
  });
}

std::pair<std::vector<Ioc>, std::int64_t> Iocs::list(const IocFilter& f, std::int64_t limit,
                                                     std::int64_t offset) const {
  // The WHERE clause is assembled from fixed fragments; every value is a bound parameter.
  std::string where;
  std::vector<std::string> texts;
  std::vector<std::int64_t> numbers;
  struct Bind {
    bool text;
    std::size_t index;
  };
  std::vector<Bind> binds;
  auto add_text = [&](const char* clause, std::string value) {
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
    binds.push_back({true, texts.size()});
    texts.push_back(std::move(value));
  };
  auto add_number = [&](const char* clause, std::int64_t value) {
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
    binds.push_back({false, numbers.size()});
    numbers.push_back(value);
  };
  if (f.type) add_text("type = ?", std::string(type_name(*f.type)));
  if (f.source) add_text("source = ?", *f.source);
  if (f.status) add_text("status = ?", *f.status);
  if (f.tlp) add_text("tlp = ?", *f.tlp);
  if (f.tag) add_text("EXISTS (SELECT 1 FROM json_each(iocs.tags) WHERE json_each.value = ?)", *f.tag);
  if (f.min_reputation) add_number("reputation >= ?", *f.min_reputation);
  if (f.max_reputation) add_number("reputation <= ?", *f.max_reputation);
  if (f.since) add_text("last_seen >= ?", *f.since);
  // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does the same.
  if (f.search)
    add_text(db_.postgres() ? "normalized_value ILIKE ? ESCAPE '\\'" : "normalized_value LIKE ? ESCAPE '\\'",
             like_pattern(*f.search));

  const char* direction = f.descending ? " DESC" : " ASC";
  std::string order = " ORDER BY " + std::string(sort_column(f.sort)) + direction + ", rowid" + direction;
  std::string count_sql = std::string(kCount) + where;
  std::string list_sql = std::string(kListColumns) + where + order + " LIMIT ? OFFSET ?";

  auto bind = [&](store::Statement& q) {
    int index = 0;
    for (const auto& b : binds) {
      if (b.text)
        q.bind(++index, std::string_view(texts[b.index]));
      else
        q.bind(++index, numbers[b.index]);
    }
    return index;
  };
  return db_.read([&](store::Connection& c) {
    std::int64_t total = 0;
    {
      auto q = c.prepare(count_sql);
      bind(*q);
      if (q->step()) total = q->int64(0);
    }
    std::vector<Ioc> items;
    auto q = c.prepare(list_sql);
    int index = bind(*q);
    q->bind(index + 1, limit);
    q->bind(index + 2, offset);
    while (q->step()) items.push_back(read_ioc(*q));
    return std::pair{std::move(items), total};
  });
}

std::optional<Ioc> Iocs::find(const Classified& key) const {
  return db_.read([&](store::Connection& c) { return select_by_key(c, key); });
}

std::optional<Ioc> Iocs::find(const Classified& key,
                              const std::function<void(store::Connection&, const Ioc&)>& with) const {
  return db_.read([&](store::Connection& c) {
    auto ioc = select_by_key(c, key, false);
    if (ioc) with(c, *ioc);
    return ioc;
  });
}

std::vector<std::optional<Ioc>> Iocs::find_many(const std::vector<std::optional<Classified>>& keys) const {
  return db_.read([&](store::Connection& c) {
    std::vector<std::optional<Ioc>> out;
    out.reserve(keys.size());
    for (const auto& key : keys) out.push_back(key ? select_by_key(c, *key) : std::nullopt);
    return out;
  });
}

std::int64_t Iocs::expire_unseen(std::chrono::seconds unseen) {
  std::string cutoff = common::rfc3339_from_unix(common::unix_seconds() - unseen.count());
  return db_.write([&](store::Connection& c) { return c.execute(kExpire, common::rfc3339_now(), cutoff); });
}

std::optional<Ioc> Iocs::update(std::string_view id, const IocPatch& patch, const Actor& by) {
  std::optional<std::string> tags;
  if (patch.tags) {
    std::vector<std::string> unique;
    merge_list(unique, *patch.tags);
    tags = json_list(unique);
  }
  return db_.write([&](store::Connection& c) -> std::optional<Ioc> {
    auto q = c.prepare(kPatch);
    q->bind_all(patch.status, patch.tlp, tags, patch.confidence, common::rfc3339_now(), id);
    if (!q->step()) return std::nullopt;
    Ioc ioc = read_ioc(*q);
    while (q->step()) {
    }
    boost::json::object details;
    if (patch.status) details["status"] = *patch.status;
    if (patch.tlp) details["tlp"] = *patch.tlp;
    if (patch.tags) details["tags"] = ioc.tags.size();
    if (patch.confidence) details["confidence"] = *patch.confidence;
    record_audit(c, by, "ioc.update", "ioc", ioc.id, details);
    return ioc;
  });
}

}  // namespace tc
