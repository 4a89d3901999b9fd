#pragma once
// auth-server settings beyond the common ones (docs/decisions/0020-setting-names.md): token
// lifetimes, lockout, per-endpoint limits, billing, usage, the bootstrap administrator. Read
// here and nowhere else.
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.hpp"

namespace auth {

struct Settings {
  std::int64_t access_ttl_s = 900;                // JWT lifetime
  std::int64_t session_ttl_s = 30 * 86400;        // refresh token / session lifetime
  std::int64_t verify_email_ttl_s = 86400;        // verification link lifetime
  std::int64_t reset_ttl_s = 3600;                // password reset link lifetime
  std::int64_t session_retention_s = 30 * 86400;  // ended sessions kept this long (export, admin view)
  std::int64_t purge_interval_s = 3600;           // how often the housekeeping job runs
  std::int64_t billing_sweep_interval_s = 60;     // how often lapsed cancellations are expired
  int usage_retention_days = 90;                  // daily usage counters kept this long
  int lockout_threshold = 5;                      // consecutive failures before the first lock
  std::int64_t lockout_base_s = 60;               // first lock; doubles with every further failure
  std::int64_t lockout_max_s = 3600;              // longest lock
  std::string base_url;                           // PANGUARD_BASE_URL, for links in mails
  common::LimitSpec register_limit, login_limit, reset_limit, totp_limit, webhook_limit;
  std::string billing_checkout_url;     // BILLING_CHECKOUT_URL ("" = checkout not configured)
  std::string billing_cancel_url;       // AUTH_BILLING_CANCEL_URL ("" = cancellation not configured)
  std::string billing_api_key;          // AUTH_BILLING_API_KEY (optional bearer token for the provider)
  std::string billing_webhook_secret;   // BILLING_WEBHOOK_SECRET ("" = webhook not configured)
  std::int64_t billing_timeout_s = 10;  // AUTH_BILLING_TIMEOUT_S: longest wait for the provider
  std::string usage_service_token;      // AUTH_USAGE_SERVICE_TOKEN ("" = usage reports not accepted)
  std::string jwt_private_key_file;     // JWT_PRIVATE_KEY_FILE ("" = HS256 with JWT_SECRET)
  // AUTH_BOOTSTRAP_ADMIN_*: the first administrator (empty email = none), checked at start by
  // the rules of a registration.
  struct BootstrapAdmin {
    std::string email, name, password;
  } bootstrap_admin;
};

namespace settings {

// The options describe() declares: this service's own and the secrets it reads through the
// service (JWT_SECRET, TOTP_ENCRYPTION_KEY).
std::vector<common::OptionSpec> options();

// Reads and checks the settings; throws common::ConfigError naming the variable.
Settings read(const common::Config& config);

}  // namespace settings

}  // namespace auth
