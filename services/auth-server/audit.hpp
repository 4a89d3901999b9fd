#pragma once
// The audit trail: one row per security event, written inside the transaction that caused it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "store/connection.hpp"

namespace auth::audit {

// Actions recorded (the `action` column).
inline constexpr const char* kRegistered = "user.registered";
inline constexpr const char* kLoginSucceeded = "login.succeeded";
inline constexpr const char* kLoginFailed = "login.failed";
inline constexpr const char* kLoginSuspended = "login.suspended";
inline constexpr const char* kAccountLocked = "account.locked";
inline constexpr const char* kLoginWhileLocked = "login.locked";
inline constexpr const char* kLogout = "session.logout";
inline constexpr const char* kSessionRevoked = "session.revoked";
inline constexpr const char* kRefreshReuse = "session.refresh_reuse";
inline constexpr const char* kPasswordChanged = "password.changed";
inline constexpr const char* kPasswordResetRequested = "password.reset_requested";
inline constexpr const char* kPasswordReset = "password.reset";
inline constexpr const char* kEmailVerified = "email.verified";
inline constexpr const char* kEmailChanged = "email.changed";
inline constexpr const char* kNameChanged = "profile.name_changed";
inline constexpr const char* kTotpSetupStarted = "totp.setup_started";
inline constexpr const char* kTotpEnabled = "totp.enabled";
inline constexpr const char* kTotpDisabled = "totp.disabled";
inline constexpr const char* kBackupCodeUsed = "totp.backup_code_used";
inline constexpr const char* kLoginWrongCode = "login.wrong_code";
inline constexpr const char* kConsentChanged = "consent.changed";
inline constexpr const char* kDataExported = "data.exported";
inline constexpr const char* kAccountDeleted = "account.deleted";
inline constexpr const char* kRoleChanged = "admin.role_changed";
inline constexpr const char* kTierChanged = "admin.tier_changed";
inline constexpr const char* kSuspended = "admin.suspended";
inline constexpr const char* kUnsuspended = "admin.unsuspended";
inline constexpr const char* kBillingCheckoutStarted = "billing.checkout_started";
inline constexpr const char* kBillingCancelRequested = "billing.cancel_requested";
inline constexpr const char* kBillingTierChanged = "billing.tier_changed";

// Appends an entry about user_id (empty: unknown account), done by actor_id (empty: the user
// themself).
void record(store::Connection& db, std::string_view action, std::string_view user_id, std::string_view ip,
            const boost::json::object& detail = {}, std::string_view actor_id = {});

struct Entry {
  std::string id;
  std::int64_t at = 0;
  std::string action;
  std::optional<std::string> user_id;
  std::optional<std::string> actor_id;
  std::string ip;
  std::string detail;  // JSON object text
};

// Filters of the admin audit listing; empty ones match everything. from/to: unix seconds, inclusive.
struct Filter {
  std::optional<std::string> action;
  std::optional<std::string> actor_id;
  std::optional<std::string> user_id;
  std::optional<std::int64_t> from;
  std::optional<std::int64_t> to;
};

// One page of matching entries, newest first, and the total number of matches.
std::pair<std::vector<Entry>, std::int64_t> list(store::Connection& db, const Filter& filter, std::int64_t limit,
                                                 std::int64_t offset);

}  // namespace auth::audit
