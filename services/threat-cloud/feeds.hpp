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

#include "iocs.hpp"
#include "store/database.hpp"

namespace tc {

// The SQL condition that keeps out IoCs whose source forbids redistribution.
inline constexpr std::string_view kRedistributable =
    "source NOT IN (SELECT name FROM sources WHERE redistribution = 0)";

// A read-only view of the database for one long read; the snapshot is taken at its first
// query. At most kMaxOpen exist at once (ApiError 503 beyond), bounding file handles.
class Snapshot {
 public:
  static constexpr int kMaxOpen = 32;
  explicit Snapshot(const std::filesystem::path& file);
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  store::Connection& connection() { return *connection_; }
  // The counter that moves with every change to IoCs or sources (feed ETags hash it).
  std::int64_t feed_version();

 private:
  static std::atomic<int> open_;
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

  std::int64_t feed_version() { return snapshot_.feed_version(); }
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
};

// A page of the TAXII collection: active, redistributable IoCs whose type STIX patterns can
// express, ordered by (updated_at, id), which is their date_added and version.
struct IndicatorQuery {
  std::optional<std::string> added_after;                    // canonical RFC 3339: updated strictly after
  std::optional<std::pair<std::string, std::string>> after;  // (updated_at, id) of the previous page's last
  std::optional<std::vector<std::string>> ids;               // only these IoC ids
  std::optional<std::string> version;                        // only this updated_at
  bool shareable_only = false;
  std::int64_t limit = 100;
};
struct IndicatorPage {
  std::vector<Ioc> items;
  bool more = false;
};
IndicatorPage indicator_page(store::Database& db, const IndicatorQuery& query);

}  // namespace tc
