#pragma once
// auth-server settings beyond the common ones: token lifetimes, lockout, per-endpoint limits.
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
  int lockout_threshold = 5;                      // consecutive failures before the first lock
  std::int64_t lockout_base_s = 60;               // first lock; doubles with every further failure
  std::int64_t lockout_max_s = 3600;              // longest lock
  std::string base_url;                           // PANGUARD_BASE_URL, for links in mails
  common::LimitSpec register_limit, login_limit, reset_limit, totp_limit;
};

// The options describe() declares for the settings above.
std::vector<common::OptionSpec> setting_options();

// Reads and checks the settings; throws common::ConfigError naming the variable.
Settings read_settings(const common::Config& config);

}  // namespace auth
