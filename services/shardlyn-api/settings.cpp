#include "settings.hpp"

#include <algorithm>

namespace shardlyn {

namespace {

common::LimitSpec limit(const common::Config& config, std::string_view env) {
  auto spec = common::LimitSpec::parse(config.get(env));
  if (!spec) throw common::ConfigError(std::string(env) + " must look like N/s, N/min or N/h with an optional :burst");
  return *spec;
}

// Where links in mails point: SHARDLYN_APP_URL, else this service's own pages.
std::string link_base(const common::Config& c) {
  std::string url = c.get("SHARDLYN_APP_URL");
  if (!url.empty()) {
    while (url.ends_with('/')) url.pop_back();
    return url;
  }
  std::string host = c.get("SHARDLYN_HOST");
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (c.get("TLS_CERT_FILE").empty() ? "http://" : "https://") + host + ":" + c.get("SHARDLYN_PORT");
}

}  // namespace

std::vector<common::OptionSpec> options() {
  std::vector<common::OptionSpec> out = {
      {"SHARDLYN_JWT_SECRET", "", "HMAC key for access tokens (at least 32 bytes)", true},
      {"SHARDLYN_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for secrets at rest", true},
      {"SHARDLYN_INTEGRATION_API", "true", "accept API tokens (shardlyn_api_...); false switches them off"},
      {"SHARDLYN_LOGIN_RATE_LIMIT", "10/min",
       "sign-in routes per client IP (login, register, refresh, bootstrap, password reset, OAuth callback); "
       "password change per user"},
      {"SHARDLYN_AGENT_API_URL", "", "the API address agents dial (default: this service's own address)"},
      {"SHARDLYN_HEARTBEAT_INTERVAL_S", "10", "seconds between agent heartbeats"},
      {"SHARDLYN_NODE_UNHEALTHY_AFTER_S", "30", "a node without a heartbeat for longer is unhealthy"},
      {"SHARDLYN_NODE_OFFLINE_AFTER_S", "300", "a node without a heartbeat for longer is offline"},
      {"SHARDLYN_AGENT_RATE_LIMIT", "50/s:200", "agent requests per node"},
      {"SHARDLYN_CONSOLE_RATE_LIMIT", "60/min:30", "console and logs WebSocket upgrades per caller (IP without a credential)"},
      {"SHARDLYN_CONSOLE_MAX_PER_CALLER", "20", "console and logs WebSockets one caller (user or API token) holds open"},
      {"SHARDLYN_MFA_RATE_LIMIT", "5/min", "MFA attempts per client (IP for the challenge, user otherwise)"},
      {"SHARDLYN_SUPPORT_RATE_LIMIT", "10/h", "support messages per user"},
      {"SHARDLYN_LOCKOUT_THRESHOLD", "5", "failed logins before an account is locked"},
      {"SHARDLYN_LOCKOUT_S",
       "60",
       "first lock; doubles with every further failure (up to an hour)",
       false,
       {"SHARDLYN_LOCKOUT_SECONDS"}},
      {"SHARDLYN_INVITE_TTL_S", "604800", "how long an organisation invite stays valid"},
      {"SHARDLYN_GITHUB_CLIENT_ID", "", "GitHub OAuth app client id (unset: GitHub sign-in answers 501)"},
      {"SHARDLYN_GITHUB_CLIENT_SECRET", "", "GitHub OAuth app client secret", true},
      {"SHARDLYN_GITHUB_AUTHORIZE_URL", "https://github.com/login/oauth/authorize", "GitHub authorize endpoint"},
      {"SHARDLYN_GITHUB_TOKEN_URL", "https://github.com/login/oauth/access_token", "GitHub token endpoint"},
      {"SHARDLYN_GITHUB_API_URL", "https://api.github.com", "GitHub REST API base URL"},
      {"SHARDLYN_GITHUB_REDIRECT_URL", "", "callback URL sent to GitHub as redirect_uri (unset: the app's)"},
      {"SHARDLYN_HELPSCOUT_SECRET", "", "HelpScout Beacon secret (unset: the signature endpoint answers 501)", true},
      {"SHARDLYN_SUPPORT_EMAIL", "", "where support messages are mailed (unset: stored only)"},
      {"SHARDLYN_SYSTEM_BACKUP_DIR", "", "directory for periodic copies of shardlyn.db (unset: off)"},
      {"SHARDLYN_SYSTEM_BACKUP_INTERVAL_S", "86400", "seconds between system backups"},
      {"SHARDLYN_SYSTEM_BACKUP_KEEP", "7", "system backups kept"},
      // Requests with API tokens commit their audit entry on a worker thread before they
      // run; with more workers waiting on commits, group commit puts more in one fsync.
      {"WORKER_THREADS", "16", "threads for blocking work: password hashing, API-token audit commits"},
      {"SHARDLYN_APP_URL", "",
       "where links in mails point (a web app serving /verify-email, /reset-password and /invites/{token}); "
       "unset: this service's own pages at its listen address"},
      {"SHARDLYN_ORG_INVITE_LIMIT", "100/h", "invites an organisation may send (N/min, N/h)"},
      {"SHARDLYN_USER_INVITE_LIMIT", "20/h", "invites one member may send (N/min, N/h)"},
      {"SHARDLYN_SSH_CERT_MAX_HOURS", "24", "longest validity_hours an SSH certificate may ask for"},
      {"HETZNER_API_URL", "https://api.hetzner.cloud/v1", "Hetzner Cloud API base URL"},
      {"CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4", "Cloudflare API base URL"},
      {"STEAM_API_URL", "https://api.steampowered.com", "Steam Web API base URL"},
      {"GCP_TOKEN_URL", "https://oauth2.googleapis.com/token", "the token_uri Google service account keys must name"},
      {"SHARDLYN_PROVIDER_TIMEOUT_MS", "10000", "time limit of one call to a cloud provider"},
      {"SHARDLYN_PROVIDER_ATTEMPTS", "3", "tries of a provider call answered 429, 5xx or not at all"},
      {"SHARDLYN_PROVIDER_BACKOFF_MS", "250", "wait before the second try of a provider call (doubles each time)"},
      {"SHARDLYN_SSH_CERT_DEFAULT_HOURS", "8", "validity of an SSH certificate that names no validity_hours"},
  };
  for (auto& option : common::mail_options("Shardlyn <no-reply@shardlyn.local>")) out.push_back(option);
  return out;
}

Settings read(const common::Config& c, const std::filesystem::path& data_dir) {
  Settings s;
  s.integration_api = c.get_bool("SHARDLYN_INTEGRATION_API");
  s.login_limit = limit(c, "SHARDLYN_LOGIN_RATE_LIMIT");
  s.mfa_limit = limit(c, "SHARDLYN_MFA_RATE_LIMIT");
  s.support_limit = limit(c, "SHARDLYN_SUPPORT_RATE_LIMIT");
  std::string app_url = link_base(c);
  s.accounts.lockout.threshold = static_cast<int>(c.get_int("SHARDLYN_LOCKOUT_THRESHOLD", 1, 1000));
  s.accounts.lockout.base_s = c.get_int("SHARDLYN_LOCKOUT_S", 1, 86400);
  s.accounts.lockout.max_s = std::max<std::int64_t>(s.accounts.lockout.base_s, 3600);
  s.accounts.app_url = app_url;
  s.invites.ttl_s = c.get_int("SHARDLYN_INVITE_TTL_S", 1, 90LL * 86400);
  s.invites.app_url = app_url;
  s.invites.org_limit = limit(c, "SHARDLYN_ORG_INVITE_LIMIT");
  s.invites.user_limit = limit(c, "SHARDLYN_USER_INVITE_LIMIT");
  s.github = {c.get("SHARDLYN_GITHUB_CLIENT_ID"),     c.get("SHARDLYN_GITHUB_CLIENT_SECRET"),
              c.get("SHARDLYN_GITHUB_AUTHORIZE_URL"), c.get("SHARDLYN_GITHUB_TOKEN_URL"),
              c.get("SHARDLYN_GITHUB_API_URL"),       c.get("SHARDLYN_GITHUB_REDIRECT_URL")};
  s.support = {c.get("SHARDLYN_SUPPORT_EMAIL"), c.get("SHARDLYN_HELPSCOUT_SECRET")};
  s.backups = {c.get("SHARDLYN_SYSTEM_BACKUP_DIR"), c.get_int("SHARDLYN_SYSTEM_BACKUP_INTERVAL_S", 1, 30LL * 86400),
               c.get_int("SHARDLYN_SYSTEM_BACKUP_KEEP", 1, 1000)};
  s.mail = common::read_mail_settings(c, data_dir, "X-Shardlyn-Mail");
  std::string agent_url = c.get("SHARDLYN_AGENT_API_URL");
  s.nodes = {agent_url.empty() ? link_base(c) : agent_url,
             static_cast<std::uint32_t>(c.get_int("SHARDLYN_HEARTBEAT_INTERVAL_S", 1, 3600)),
             c.get_int("SHARDLYN_NODE_UNHEALTHY_AFTER_S", 1, 86400), c.get_int("SHARDLYN_NODE_OFFLINE_AFTER_S", 1, 30LL * 86400)};
  if (s.nodes.offline_after_s < s.nodes.unhealthy_after_s)
    throw common::ConfigError("SHARDLYN_NODE_OFFLINE_AFTER_S must not be below SHARDLYN_NODE_UNHEALTHY_AFTER_S");
  s.agent_limit = limit(c, "SHARDLYN_AGENT_RATE_LIMIT");
  s.console_limit = limit(c, "SHARDLYN_CONSOLE_RATE_LIMIT");
  s.console_max_per_caller = static_cast<std::size_t>(c.get_int("SHARDLYN_CONSOLE_MAX_PER_CALLER", 1, 100000));
  s.ssh_ca.max_validity_hours = c.get_int("SHARDLYN_SSH_CERT_MAX_HOURS", 1, 8760);
  s.ssh_ca.default_validity_hours = c.get_int("SHARDLYN_SSH_CERT_DEFAULT_HOURS", 1, 8760);
  s.providers = {c.get("HETZNER_API_URL"), c.get("CLOUDFLARE_API_URL"), c.get("STEAM_API_URL"), c.get("GCP_TOKEN_URL"),
                 std::chrono::milliseconds(c.get_int("SHARDLYN_PROVIDER_TIMEOUT_MS", 100, 120000)),
                 static_cast<int>(c.get_int("SHARDLYN_PROVIDER_ATTEMPTS", 1, 10)),
                 std::chrono::milliseconds(c.get_int("SHARDLYN_PROVIDER_BACKOFF_MS", 0, 60000))};
  if (s.ssh_ca.default_validity_hours > s.ssh_ca.max_validity_hours)
    throw common::ConfigError("SHARDLYN_SSH_CERT_DEFAULT_HOURS must not exceed SHARDLYN_SSH_CERT_MAX_HOURS");
  return s;
}

}  // namespace shardlyn
