#include "feeds.hpp"

#include <boost/json/serialize.hpp>

#include "common/error.hpp"

namespace tc {

namespace {

// "SELECT <what> FROM iocs WHERE <the feed's conditions> ORDER BY <order>", from fixed fragments.
std::string feed_sql(const FeedQuery& query, std::string_view what, std::string_view order, bool postgres) {
  // Feeds read iocs_feed (0007_feeds.sql) whatever SQLite's statistics say (PostgreSQL has no
  // index hints and plans by its own); agent updates go by change time.
  std::string sql = "SELECT " + std::string(what) +
                    (query.changed_since || postgres ? " FROM iocs" : " FROM iocs INDEXED BY iocs_feed") + " WHERE " +
                    std::string(kRedistributable);
  if (query.changed_since)
    sql += " AND updated_at >= ?";
  else
    sql += " AND status = 'active' AND reputation >= ?";
  if (!query.types.empty()) {
    sql += " AND type IN (";
    for (std::size_t i = 0; i < query.types.size(); ++i) sql += i ? ", ?" : "?";
    sql += ")";
  }
  if (query.tlp) sql += " AND tlp = ?";
  if (query.since) sql += " AND last_seen >= ?";
  if (query.shareable_only) sql += " AND tlp IN ('clear', 'green')";
  if (order.empty()) return sql;
  return sql + " ORDER BY " + std::string(order);
}

void bind_feed(store::Statement& q, const FeedQuery& query) {
  int index = 0;
  if (query.changed_since)
    q.bind(++index, std::string_view(*query.changed_since));
  else
    q.bind(++index, query.min_reputation);
  for (auto t : query.types) q.bind(++index, type_name(t));
  if (query.tlp) q.bind(++index, std::string_view(*query.tlp));
  if (query.since) q.bind(++index, std::string_view(*query.since));
}

std::string_view feed_order(const FeedQuery& query) {
  return query.changed_since ? "updated_at, rowid" : "type, normalized_value";
}

}  // namespace

struct FeedSlots::Lease::State {
  std::mutex mutex;
  std::map<std::string, int, std::less<>> held;  // holder -> open feeds
  int open = 0, anonymous = 0;
};

FeedSlots::FeedSlots(FeedSlotLimits limits) : limits_(limits), state_(std::make_shared<Lease::State>()) {}

FeedSlots::Lease FeedSlots::acquire(const std::string& holder, bool keyed) {
  auto busy = [](std::string message) { return common::ApiError(503, std::move(message)).with_header("Retry-After", "5"); };
  std::lock_guard lock(state_->mutex);
  if (state_->open >= limits_.total) throw busy("too many feeds are being read at once, retry shortly");
  if (!keyed && state_->anonymous >= limits_.total - limits_.keyed_reserve)
    throw busy("every feed slot for clients without an API key is in use; retry shortly or send an API key");
  int& mine = state_->held[holder];
  if (mine >= limits_.per_client) {
    throw busy("this client already reads " + std::to_string(mine) + " feeds at once (the most allowed); finish one first");
  }
  ++mine;
  ++state_->open;
  if (!keyed) ++state_->anonymous;
  Lease lease;
  lease.state_ = state_;
  lease.holder_ = holder;
  lease.keyed_ = keyed;
  return lease;
}

FeedSlots::Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)), holder_(std::move(other.holder_)), keyed_(other.keyed_) {}

FeedSlots::Lease::~Lease() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  auto it = state_->held.find(holder_);
  if (it != state_->held.end() && --it->second <= 0) state_->held.erase(it);
  --state_->open;
  if (!keyed_) --state_->anonymous;
}

Snapshot::Snapshot(store::Database& db) {
  if (db.postgres()) {
    session_ = std::make_unique<store::pg::Connection>(db.url());
    session_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    connection_ = std::make_unique<store::Connection>(*session_);
    return;  // the session's end closes the transaction
  }
  connection_ = std::make_unique<store::Connection>(db.path(), store::ConnectionOptions{.read_only = true});
  transaction_ = std::make_unique<store::Transaction>(*connection_, store::Transaction::Kind::deferred);
}

Snapshot::~Snapshot() {
  transaction_.reset();  // a read transaction: ending it only releases the snapshot
  connection_.reset();
  session_.reset();
}

FeedReader::FeedReader(store::Database& db, const FeedQuery& query, Rows rows, FeedSlots::Lease slot)
    : slot_(std::move(slot)), snapshot_(db), query_(query), rows_kind_(rows) {}

FeedReader::~FeedReader() { rows_.reset(); }

const std::string& FeedReader::fingerprint() {
  if (count_ < 0) {
    auto& c = snapshot_.connection();
    auto q = c.prepare(feed_sql(query_, "count(*), max(updated_at), coalesce(sum(rowid), 0)", "", c.postgres()));
    bind_feed(*q, query_);
    q->step();
    count_ = q->int64(0);
    fingerprint_ =
        std::to_string(count_) + "|" + q->text(1) + "|" + std::to_string(static_cast<std::int64_t>(q->real(2)));
  }
  return fingerprint_;
}

std::int64_t FeedReader::count() {
  fingerprint();
  return count_;
}

bool FeedReader::next() {
  if (!rows_) {
    std::string what = rows_kind_ == Rows::Values ? "normalized_value" : std::string(kIocColumns);
    auto& c = snapshot_.connection();
    rows_.emplace(c.prepare(feed_sql(query_, what, feed_order(query_), c.postgres())));
    bind_feed(**rows_, query_);
  }
  return (*rows_)->step();
}

std::string FeedReader::value() const { return (*rows_)->text(0); }

Ioc FeedReader::ioc() const { return read_ioc(**rows_); }

IndicatorPage indicator_page(store::Database& db, const IndicatorQuery& query) {
  std::string sql = "SELECT " + std::string(kIocColumns) +
                    ", rowid FROM iocs WHERE status = 'active' AND type != 'cve' AND " + std::string(kRedistributable);
  if (query.added_after) sql += " AND updated_at > ?";
  if (query.after) sql += " AND (updated_at, rowid) > (?, ?)";
  if (query.version) sql += " AND updated_at = ?";
  if (query.shareable_only) sql += " AND tlp IN ('clear', 'green')";
  if (query.ids) {
    sql += " AND id IN (SELECT value FROM json_each(?))";
  }
  sql += " ORDER BY updated_at, rowid LIMIT ?";
  return db.read([&](store::Connection& c) {
    auto q = c.prepare(sql);
    int index = 0;
    if (query.added_after) q->bind(++index, std::string_view(*query.added_after));
    if (query.after) {
      q->bind(++index, std::string_view(query.after->first));
      q->bind(++index, query.after->second);
    }
    if (query.version) q->bind(++index, std::string_view(*query.version));
    if (query.ids) {
      boost::json::array ids;
      for (const auto& id : *query.ids) ids.emplace_back(id);
      q->bind(++index, std::string_view(boost::json::serialize(ids)));
    }
    q->bind(++index, query.limit + 1);
    IndicatorPage page;
    std::vector<std::int64_t> rowids;
    while (q->step()) {
      page.items.push_back(read_ioc(*q));
      rowids.push_back(q->int64(q->column_count() - 1));
    }
    if (static_cast<std::int64_t>(page.items.size()) > query.limit) {
      page.items.pop_back();
      rowids.pop_back();
      page.more = true;
    }
    if (!rowids.empty()) page.last_rowid = rowids.back();
    return page;
  });
}

void record_feed_access(store::Database& db, const Actor& by, std::string_view feed, boost::json::object details) {
  db.write([&](store::Connection& c) { record_audit(c, by, "feed.access", "feed", feed, details); });
}

}  // namespace tc
