#pragma once
// The audit log: one row per write (key management, IoC uploads and changes), written inside
// the transaction of the change it describes. IPs are anonymised before they are stored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "store/database.hpp"

namespace tc {

// Who made a change: the API key id and the client IP (anonymised when recorded).
struct Actor {
  std::string key_id;
  std::string ip;
};

struct AuditEntry {
  std::string id;
  std::string at;
  std::string actor;
  std::string ip;
  std::string action;
  std::string entity_type;
  std::string entity_id;
  boost::json::object details;
};

struct AuditFilter {
  std::optional<std::string> action, entity_type, entity_id;
  std::optional<std::string> since;  // canonical RFC 3339
};

// IPv4 cut to /24 ("192.0.2.0"), IPv6 to /48 ("2001:db8:1::"); anything else "unknown".
std::string anonymize_ip(std::string_view ip);

// Appends one entry on `c`, which must be inside the write transaction of the change.
void record_audit(store::Connection& c, const Actor& actor, std::string_view action, std::string_view entity_type,
                  std::string_view entity_id, const boost::json::object& details);

class AuditLog {
 public:
  explicit AuditLog(store::Database& db) : db_(db) {}
  // Entries newest first, with the total count.
  std::pair<std::vector<AuditEntry>, std::int64_t> list(const AuditFilter& filter, std::int64_t limit,
                                                        std::int64_t offset) const;

 private:
  store::Database& db_;
};

}  // namespace tc
