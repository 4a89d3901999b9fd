#pragma once
// The Admin Endpoints' operations: the platform's figures, every organisation, plans,
// subscriptions, the audit log and the log level.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "admin/audit.hpp"
#include "http/access.hpp"
#include "orgs/organizations.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct Plan {
  std::string id;
  std::string name;
  std::int64_t price_cents = 0;
  std::string currency;
  std::int64_t max_nodes = 0;
  std::int64_t max_instances = 0;
  std::int64_t max_memory_mb = 0;
  bool active = true;
  std::int64_t created_at = 0;
};

struct Subscription {
  std::string id;
  std::string org_id;
  std::string org_name;
  std::string plan_id;
  std::string plan_name;
  std::string status;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// The platform's figures at one moment (24h = the last 24 hours).
struct PlatformMetrics {
  std::int64_t users = 0;
  std::int64_t suspended_users = 0;
  std::int64_t platform_admins = 0;
  std::int64_t organizations = 0;
  std::int64_t live_sessions = 0;
  std::int64_t active_api_tokens = 0;
  std::int64_t pending_invites = 0;
  std::int64_t audit_events_24h = 0;
  std::int64_t failed_logins_24h = 0;
};

struct LogSettings {
  std::string level;  // debug, info, warn or error
};

class Administration {
 public:
  Administration(store::Database& db, const Access& access) : db_(db), access_(access) {}

  PlatformMetrics metrics();
  std::pair<std::vector<Organization>, std::int64_t> organizations(std::int64_t limit, std::int64_t offset);
  std::pair<Organization, std::vector<Member>> organization(std::string_view id);
  std::vector<Plan> plans();
  Plan create_plan(const Caller& caller, const Plan& plan);
  Plan update_plan(const Caller& caller, std::string_view id, const boost::json::object& changes);
  void delete_plan(const Caller& caller, std::string_view id);
  std::pair<std::vector<Subscription>, std::int64_t> subscriptions(std::int64_t limit, std::int64_t offset);
  Subscription update_subscription(const Caller& caller, std::string_view id, const std::optional<std::string>& plan_id,
                                   const std::optional<std::string>& status);
  std::pair<std::vector<audit::Entry>, std::int64_t> audit_log(const audit::Filter& filter, std::int64_t limit,
                                                               std::int64_t offset);
  // An audit entry of its own (an export of the audit log).
  void record(const Caller& caller, std::string_view action, const boost::json::object& detail = {});
  LogSettings log_settings();
  LogSettings update_log_settings(const Caller& caller, const std::optional<std::string>& level);

 private:
  store::Database& db_;
  const Access& access_;
};

}  // namespace shardlyn
