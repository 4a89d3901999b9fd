#pragma once
// Feeds read from a snapshot of their own: a connection and read transaction per feed, so a
// large feed streams from one consistent view without holding a pooled connection while a
// slow client reads.
#include <map>
#include <mutex>
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

// How many feeds may stream at once: in all, per client (an API key, or an anonymous address:
// IPv4 host, IPv6 /64), and how many of them only API-key holders may use, so that anonymous
// clients can neither take every slot nor one client all anonymous ones. Each open feed holds
// a snapshot (SQLite: a file handle and WAL that cannot be checkpointed past it; PostgreSQL: a
// session of its own, outside DATABASE_POOL_SIZE).
struct FeedSlotLimits {
  int total = 32;
  int per_client = 4;
  int keyed_reserve = 16;
};

class FeedSlots {
 public:
  explicit FeedSlots(FeedSlotLimits limits);
  // One slot, given back when the lease is destroyed (it may outlive the FeedSlots).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();

   private:
    friend class FeedSlots;
    struct State;
    std::shared_ptr<State> state_;
    std::string holder_;
    bool keyed_ = false;
  };
  // A slot for `holder` ("key:<id>" or "ip:<client>"); ApiError 503 with Retry-After when the
  // holder's share, the anonymous share or the total is in use.
  Lease acquire(const std::string& holder, bool keyed);
  const FeedSlotLimits& limits() const { return limits_; }

 private:
  FeedSlotLimits limits_;
  std::shared_ptr<Lease::State> state_;
};

// A read-only view of the database for one long read, on a connection of its own (SQLite: a
// read-only connection to the file, its snapshot taken at the first query; PostgreSQL: a
// session in a READ ONLY REPEATABLE READ transaction).
class Snapshot {
 public:
  explicit Snapshot(store::Database& db);
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  store::Connection& connection() { return *connection_; }

 private:
  std::unique_ptr<store::pg::Connection> session_;
  std::unique_ptr<store::Connection> connection_;
  std::unique_ptr<store::Transaction> transaction_;
};

// The entries of one feed, in order, read row by row from a snapshot.
class FeedReader {
 public:
  enum class Rows { Values, Iocs };
  // Holds `slot` for as long as it reads.
  FeedReader(store::Database& db, const FeedQuery& query, Rows rows, FeedSlots::Lease slot);
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
  FeedSlots::Lease slot_;
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
