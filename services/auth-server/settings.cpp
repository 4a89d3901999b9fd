#include "settings.hpp"

#include "common/error.hpp"

namespace auth {

namespace settings {

std::vector<common::OptionSpec> options() {
  return {
      {"JWT_SECRET", "", "HMAC key for HS256 access tokens (at least 32 bytes; unused with JWT_PRIVATE_KEY_FILE)",
       true},
      {"TOTP_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for TOTP secrets", true},
      {"AUTH_ACCESS_TTL_S", "900", "lifetime of access tokens (JWT) in seconds"},
      {"AUTH_SESSION_TTL_S", "2592000", "lifetime of a session and its refresh token in seconds"},
      {"AUTH_LOCKOUT_THRESHOLD", "5", "consecutive failed logins before an account is locked"},
      {"AUTH_LOCKOUT_BASE_S", "60", "first lockout in seconds; doubles with each further failure"},
      {"AUTH_LOCKOUT_MAX_S", "3600", "longest lockout in seconds"},
      // Generous enough for a class or an office behind one address; the 20/min service limit still applies.
      {"AUTH_REGISTER_LIMIT", "60/h:10", "registrations per client IP (60/h:10 = a burst of 10, one more per minute)"},
      {"AUTH_LOGIN_LIMIT", "40/h:10",
       "logins per client IP, and password confirmations (change-password, delete-account) per user (40/h:10 = a "
       "burst of 10, one more every 90 s: 10 per 15 minutes)"},
      {"AUTH_RESET_LIMIT", "20/h:5", "forgot/reset password requests per client IP (20/h:5 = 5 per 15 minutes)"},
      {"AUTH_TOTP_LIMIT", "5/min", "two-factor setup/verify/disable attempts per user"},
      {"AUTH_SESSION_RETENTION_DAYS", "30", "days ended sessions are kept before they are deleted"},
      {"AUTH_PURGE_INTERVAL_S", "3600", "seconds between runs of the job deleting ended sessions and spent tokens"},
      {"PANGUARD_BASE_URL", "",
       "base URL for links in mails (default: this server, http(s)://AUTH_HOST:AUTH_PORT, which serves the pages)"},
      {"AUTH_BOOTSTRAP_ADMIN_EMAIL", "",
       "with AUTH_BOOTSTRAP_ADMIN_PASSWORD: while no administrator exists, this account is created as one at start"},
      {"AUTH_BOOTSTRAP_ADMIN_PASSWORD", "", "password of the bootstrap administrator (8-128 characters)", true},
      {"AUTH_BOOTSTRAP_ADMIN_NAME", "Administrator", "display name of the bootstrap administrator"},
      {"JWT_PRIVATE_KEY_FILE", "", "PEM private key (RSA >= 2048 bits or EC P-256): RS256/ES256 access tokens, JWKS"},
      {"BILLING_CHECKOUT_URL", "", "billing provider endpoint creating checkout sessions (POST)"},
      {"AUTH_BILLING_CANCEL_URL",
       "",
       "billing provider endpoint cancelling a subscription at period end (POST)",
       false,
       {"BILLING_CANCEL_URL"}},
      {"AUTH_BILLING_API_KEY", "", "bearer token sent to the billing provider", true, {"BILLING_API_KEY"}},
      {"AUTH_BILLING_TIMEOUT_S",
       "10",
       "seconds a call to the billing provider may take (504 beyond)",
       false,
       {"BILLING_TIMEOUT_S"}},
      {"BILLING_WEBHOOK_SECRET", "", "HMAC-SHA256 key of the provider's X-Signature on webhooks", true},
      {"AUTH_BILLING_SWEEP_INTERVAL_S",
       "60",
       "seconds between runs of the job expiring subscriptions whose cancellation took effect",
       false,
       {"BILLING_SWEEP_INTERVAL_S"}},
      {"AUTH_USAGE_RETENTION_DAYS", "90", "days daily usage counters are kept", false, {"USAGE_RETENTION_DAYS"}},
      {"AUTH_BILLING_WEBHOOK_LIMIT", "600/min", "webhook deliveries per client IP", false, {"BILLING_WEBHOOK_LIMIT"}},
      {"AUTH_USAGE_SERVICE_TOKEN",
       "",
       "bearer token other services use to report usage (POST /api/usage/report)",
       true,
       {"USAGE_SERVICE_TOKEN"}},
  };
}

namespace {

// Where this server answers, for links in mails when PANGUARD_BASE_URL is not set.
std::string own_url(const common::Config& config) {
  std::string host = config.get("AUTH_HOST");
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(config.is_set("TLS_CERT_FILE") ? "https://" : "http://") + host + ":" + config.get("AUTH_PORT");
}

}  // namespace

Settings read(const common::Config& config) {
  Settings s;
  s.access_ttl_s = config.get_int("AUTH_ACCESS_TTL_S", 60, 86400);
  s.session_ttl_s = config.get_int("AUTH_SESSION_TTL_S", 300, 366 * 86400);
  s.lockout_threshold = static_cast<int>(config.get_int("AUTH_LOCKOUT_THRESHOLD", 1, 1000));
  s.lockout_base_s = config.get_int("AUTH_LOCKOUT_BASE_S", 1, 86400);
  s.lockout_max_s = config.get_int("AUTH_LOCKOUT_MAX_S", 1, 30 * 86400);
  if (s.lockout_max_s < s.lockout_base_s)
    throw common::ConfigError("AUTH_LOCKOUT_MAX_S must not be below AUTH_LOCKOUT_BASE_S");
  s.session_retention_s = config.get_int("AUTH_SESSION_RETENTION_DAYS", 0, 3650) * 86400;
  s.purge_interval_s = config.get_int("AUTH_PURGE_INTERVAL_S", 1, 86400);
  s.register_limit = config.get_limit("AUTH_REGISTER_LIMIT");
  s.login_limit = config.get_limit("AUTH_LOGIN_LIMIT");
  s.reset_limit = config.get_limit("AUTH_RESET_LIMIT");
  s.totp_limit = config.get_limit("AUTH_TOTP_LIMIT");
  s.webhook_limit = config.get_limit("AUTH_BILLING_WEBHOOK_LIMIT");
  s.billing_sweep_interval_s = config.get_int("AUTH_BILLING_SWEEP_INTERVAL_S", 1, 86400);
  s.usage_retention_days = static_cast<int>(config.get_int("AUTH_USAGE_RETENTION_DAYS", 1, 3650));
  s.billing_checkout_url = config.get("BILLING_CHECKOUT_URL");
  s.billing_cancel_url = config.get("AUTH_BILLING_CANCEL_URL");
  for (const auto* env : {"BILLING_CHECKOUT_URL", "AUTH_BILLING_CANCEL_URL"}) {
    std::string url = config.get(env);
    if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
      throw common::ConfigError(std::string(env) + " must be an http:// or https:// URL");
  }
  s.billing_api_key = config.get("AUTH_BILLING_API_KEY");
  s.billing_timeout_s = config.get_int("AUTH_BILLING_TIMEOUT_S", 1, 60);
  s.billing_webhook_secret = config.get("BILLING_WEBHOOK_SECRET");
  s.usage_service_token = config.get("AUTH_USAGE_SERVICE_TOKEN");
  if (!s.usage_service_token.empty() && s.usage_service_token.size() < 16)
    throw common::ConfigError("AUTH_USAGE_SERVICE_TOKEN must be at least 16 characters");
  s.jwt_private_key_file = config.get("JWT_PRIVATE_KEY_FILE");
  bool email = config.is_set("AUTH_BOOTSTRAP_ADMIN_EMAIL"), password = config.is_set("AUTH_BOOTSTRAP_ADMIN_PASSWORD");
  if (email != password)
    throw common::ConfigError("AUTH_BOOTSTRAP_ADMIN_EMAIL and AUTH_BOOTSTRAP_ADMIN_PASSWORD must be set together");
  if (email)
    s.bootstrap_admin = {config.get("AUTH_BOOTSTRAP_ADMIN_EMAIL"), config.get("AUTH_BOOTSTRAP_ADMIN_NAME"),
                         config.get("AUTH_BOOTSTRAP_ADMIN_PASSWORD")};
  s.base_url = config.is_set("PANGUARD_BASE_URL") ? config.get("PANGUARD_BASE_URL") : own_url(config);
  while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
  for (char c : s.base_url)
    if (static_cast<unsigned char>(c) < 0x20) throw common::ConfigError("PANGUARD_BASE_URL must be one line");
  return s;
}

}  // namespace settings
}  // namespace auth
