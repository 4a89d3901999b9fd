#pragma once
// Feeds read from a snapshot of their own: a connection and read transaction per feed, so a
// large feed streams from one consistent view without holding a pooled connection while a
// slow client reads.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "iocs.hpp"
#include "store/database.hpp"

namespace tc {

// The SQL condition that keeps out IoCs whose source forbids redistribution.
inline constexpr std::string_view kRedistributable =
    "source NOT IN (SELECT name FROM sources WHERE redistribution = 0)";

// A read-only view of the database for one long read; the snapshot is taken at its first
// query. At most max_open() exist at once (ApiError 503 beyond), bounding file handles and
// the WAL that open snapshots keep from being checkpointed.
class Snapshot {
 public:
  static void set_max_open(int n) { max_open_ = n; }
  static int max_open() { return max_open_; }
  explicit Snapshot(const std::filesystem::path& file);
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  store::Connection& connection() { return *connection_; }

 private:
  static std::atomic<int> open_;
  static std::atomic<int> max_open_;
  std::unique_ptr<store::Connection> connection_;
  std::unique_ptr<store::Transaction> transaction_;
};

// The entries of one feed, in order, read row by row from a snapshot.
class FeedReader {
 public:
  enum class Rows { Values, Iocs };
  FeedReader(const std::filesystem::path& file, const FeedQuery& query, Rows rows);
  ~FeedReader();
  FeedReader(const FeedReader&) = delete;
  FeedReader& operator=(const FeedReader&) = delete;

  // What identifies the feed's content in this snapshot without reading it all: the entry
  // count, the latest change time and the sum of the entries' row ids ("<n>|<time>|<sum>").
  // Computed once; count() comes with it.
  const std::string& fingerprint();
  // How many entries the feed has in this snapshot.
  std::int64_t count();
  // Moves to the next entry; false when there is none.
  bool next();
  // The current entry's normalised value (Rows::Values: distinct values sorted).
  std::string value() const;
  // The current entry (Rows::Iocs: ordered by type and value, or by change time).
  Ioc ioc() const;

 private:
  Snapshot snapshot_;
  FeedQuery query_;
  Rows rows_kind_;
  std::optional<store::Query> rows_;
  std::string fingerprint_;
  std::int64_t count_ = -1;
};

// A page of the TAXII collection: active, redistributable IoCs whose type STIX patterns can
// express, in change order (updated_at, then rowid); updated_at is their date_added and version.
struct IndicatorQuery {
  std::optional<std::string> added_after;                     // canonical RFC 3339: updated strictly after
  std::optional<std::pair<std::string, std::int64_t>> after;  // (updated_at, rowid) of the previous page's last
  std::optional<std::vector<std::string>> ids;                // only these IoC ids
  std::optional<std::string> version;                         // only this updated_at
  bool shareable_only = false;
  std::int64_t limit = 100;
};
struct IndicatorPage {
  std::vector<Ioc> items;
  std::int64_t last_rowid = 0;  // of the last item, for the next page
  bool more = false;
};
IndicatorPage indicator_page(store::Database& db, const IndicatorQuery& query);

// Records one feed download in the audit log (action feed.access, entity feed/<name>).
void record_feed_access(store::Database& db, const Actor& by, std::string_view feed, boost::json::object details);

}  // namespace tc
