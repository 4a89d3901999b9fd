#pragma once
// IoCs: storage, upsert by (type, normalised value), queries, lookups and verdicts.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "ioc_types.hpp"
#include "store/database.hpp"

namespace tc {

// Allowed values of the enumerated IoC fields.
inline constexpr std::string_view kReliabilities[] = {"A", "B", "C", "D", "E", "F"};
inline constexpr std::string_view kTlps[] = {"clear", "green", "amber", "amber+strict", "red"};
inline constexpr std::string_view kStatuses[] = {"active", "expired", "revoked", "under_review"};

struct Ioc {
  std::string id;
  IocType type = IocType::Ip;
  std::string value;  // as first submitted
  std::string normalized_value;
  std::string threat_type;
  std::string source;
  std::string source_reliability;
  int confidence = 0;
  int reputation = 0;
  std::string tlp;
  std::string first_seen;
  std::string last_seen;
  std::int64_t sightings = 0;
  std::string status;
  std::vector<std::string> tags;
  std::vector<std::string> mitre_techniques;
  std::optional<std::string> country;
  std::optional<std::int64_t> asn;
  boost::json::object metadata;
  std::string created_at;
  std::string updated_at;
  // Read with read_ioc(q, false): the stored JSON texts of tags, mitre_techniques and metadata
  // (the three parsed fields above are then left empty).
  std::string tags_text, mitre_techniques_text, metadata_text;
};

// One submitted IoC, already validated. Absent fields keep the stored value of an existing
// IoC, or take the defaults of a new one (threatType unknown, source api, reliability F,
// confidence 50, reputation 50, tlp clear, status active, seen now).
struct IocSubmission {
  std::string value;
  Classified classified;
  std::optional<std::string> threat_type, source, source_reliability, tlp, status, country;
  std::optional<int> confidence, reputation;
  std::optional<std::int64_t> asn;
  std::optional<std::string> first_seen, last_seen;  // canonical RFC 3339
  std::vector<std::string> tags, mitre_techniques;   // merged into the stored sets
  std::optional<boost::json::object> metadata;       // merged key by key
};

struct UpsertResult {
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::vector<std::string> ids;  // one per submission, in order
};

struct IocFilter {
  std::optional<IocType> type;
  std::optional<std::string> source, status, tag, tlp, search;
  std::optional<int> min_reputation, max_reputation;
  std::optional<std::string> since;  // canonical RFC 3339: last seen at or after
  std::string sort = "lastSeen";     // lastSeen, firstSeen, reputation, confidence, sightings, value, createdAt
  bool descending = true;
};
// Names accepted by IocFilter::sort.
inline constexpr std::string_view kSortFields[] = {"lastSeen",  "firstSeen", "reputation", "confidence",
                                                   "sightings", "value",     "createdAt"};

// What PATCH may change; absent fields stay.
struct IocPatch {
  std::optional<std::string> status, tlp;
  std::optional<std::vector<std::string>> tags;
  std::optional<int> confidence;
};

// The columns read_ioc expects, in order, for "SELECT <kIocColumns> FROM iocs ...".
extern const std::string_view kIocColumns;
// The IoC in the current row of a statement selecting kIocColumns.
Ioc read_ioc(const store::Statement& q, bool parse_json = true);

// The IoC with this id, read on `c` (inside the caller's transaction); nullopt when absent.
std::optional<Ioc> load_ioc(store::Connection& c, std::string_view id);

// A new IoC id: "ioc_" and 16 hex digits, increasing with time (milliseconds, then random bits).
std::string new_ioc_id();
// prefix + 16 hex digits, increasing within the process (time first), unique with random odds
// across processes: rows keyed by them append to their index (events, sightings, audit entries).
std::string ordered_id(std::string_view prefix);

// The verdict for one looked-up value: malicious (reputation >= 70), suspicious (>= 40),
// low_risk, clean (revoked), expired, unknown (not found).
std::string_view verdict_of(const Ioc* ioc);

// What a feed contains: active IoCs of these types at or above a reputation.
struct FeedQuery {
  std::vector<IocType> types;  // empty = every type
  int min_reputation = 70;
  std::optional<std::string> tlp;    // exactly this TLP
  std::optional<std::string> since;  // canonical RFC 3339: last seen at or after
  bool shareable_only = false;       // only TLP clear and green (anonymous callers)
  // Agent updates: IoCs changed at or after this time in any status (so agents also learn
  // what to drop), ordered by change time; min_reputation then does not filter.
  std::optional<std::string> changed_since;
};

class Iocs {
 public:
  explicit Iocs(store::Database& db) : db_(db) {}

  // Inserts or merges every submission in one transaction (all or nothing), with one audit entry.
  // Throws ApiError 400 when merging would grow an IoC past 100 tags or techniques or 64 KiB
  // of metadata.
  UpsertResult upsert(const std::vector<IocSubmission>& submissions, const Actor& by);
  std::pair<std::vector<Ioc>, std::int64_t> list(const IocFilter& filter, std::int64_t limit,
                                                 std::int64_t offset) const;
  std::optional<Ioc> find(const Classified& key) const;
  // The same, read with its JSON columns as text (see Ioc::tags_text), then `with(c, ioc)`
  // when found, in the same read transaction (one snapshot).
  std::optional<Ioc> find(const Classified& key, const std::function<void(store::Connection&, const Ioc&)>& with) const;
  // One result per key, in order, from one consistent snapshot.
  std::vector<std::optional<Ioc>> find_many(const std::vector<std::optional<Classified>>& keys) const;
  // Marks active IoCs last seen longer than `unseen` ago as expired; returns how many.
  std::int64_t expire_unseen(std::chrono::seconds unseen);
  // nullopt when there is no IoC with that id.
  std::optional<Ioc> update(std::string_view id, const IocPatch& patch, const Actor& by);

 private:
  store::Database& db_;
};

}  // namespace tc
