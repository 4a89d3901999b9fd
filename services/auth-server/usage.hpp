#pragma once
// Usage meters against the tier's quotas. Protected endpoints, threat-cloud lookups and API
// calls happen in other Panguard services, which report them here with the usage service
// token; signed-in devices are counted from the auth-server's own sessions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "tokens.hpp"

namespace auth {

struct Meter {
  std::string name;    // endpoints, threatLookups, apiCalls, sessions
  std::string period;  // "day" (UTC, resets at midnight) or "current" (a level, not a count)
  std::int64_t used = 0;
  std::optional<std::int64_t> limit;      // nullopt = unlimited
  std::optional<std::int64_t> resets_at;  // unix seconds, daily meters only
};

struct UsageSummary {
  std::string tier;
  std::vector<Meter> meters;
};

// A stored counter (GDPR export).
struct UsageCounter {
  std::string meter;
  std::string period;  // "YYYY-MM-DD", or "" for a level
  std::int64_t value = 0;
  std::int64_t updated_at = 0;
};

// A report from another service: `increment` for daily meters, `value` (the current level)
// for endpoints.
struct UsageReport {
  std::string user_id;
  std::string meter;
  std::optional<std::int64_t> increment;
  std::optional<std::int64_t> value;
};

namespace usage {
// The meters other services report, in display order.
inline constexpr std::string_view kReported[] = {"endpoints", "threatLookups", "apiCalls"};
std::vector<UsageCounter> counters_of(store::Connection& db, std::string_view user_id);
}  // namespace usage

class Usage {
 public:
  Usage(store::Database& db, std::string service_token);

  UsageSummary summary(const Principal& caller);
  // 501 without AUTH_USAGE_SERVICE_TOKEN; 401 unless `bearer` is that token.
  void check_service_token(std::optional<std::string_view> bearer) const;
  // Adds or sets the reported amount and returns the meter after the change: 404 for an
  // unknown account, 400 when increment/value does not fit the meter.
  Meter record(const UsageReport& report);
  // Deletes daily counters older than `days` days; returns how many.
  int purge(int days);

 private:
  store::Database& db_;
  std::string service_token_;
};

}  // namespace auth
