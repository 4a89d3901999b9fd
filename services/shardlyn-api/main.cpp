// shardlyn-api: the Shardlyn control plane (identity, organisations, nodes, workloads, instances).
#include <chrono>

#include "admin/routes.hpp"
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/mail.hpp"
#include "common/service.hpp"
#include "http/access.hpp"
#include "identity/accounts.hpp"
#include "identity/github.hpp"
#include "identity/routes.hpp"
#include "identity/schema.hpp"
#include "identity/totp_store.hpp"
#include "orgs/platform.hpp"
#include "orgs/routes.hpp"
#include "security/digest.hpp"
#include "tokens/routes.hpp"

std::span<const common::EmbeddedFile> shardlyn_api_migrations();
std::span<const common::EmbeddedFile> shardlyn_api_openapi();

namespace {

common::ServiceInfo describe() {
  common::ServiceInfo info{
      .name = "shardlyn-api",
      .summary = "Shardlyn control plane: nodes, workloads and game servers on your own machines",
      .metrics_prefix = "shardlyn",
      .style = common::ResponseStyle::Bare,
      .host_env = "SHARDLYN_HOST",
      .port_env = "SHARDLYN_PORT",
      .default_port = 8090,
      .rate_limit_env = "SHARDLYN_RATE_LIMIT",
      .default_rate_limit = "20/s:50",
      .docs_path = "/v1/docs",
      .openapi_json_path = "/v1/openapi.json",
      .openapi_yaml_path = "/v1/openapi.yaml",
      .openapi_yaml = shardlyn_api_openapi().front().data,
      .liveness_aliases = {"/health/live"},
      .readiness_aliases = {"/ready"},
      .detailed_health_path = "/health/detailed",
      .options =
          {
              {"SHARDLYN_JWT_SECRET", "", "HMAC key for access tokens (at least 32 bytes)", true},
              {"SHARDLYN_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for secrets at rest", true},
              {"SHARDLYN_INTEGRATION_API", "true", "accept API tokens (shardlyn_api_...); false switches them off"},
              {"SHARDLYN_LOGIN_RATE_LIMIT", "10/min",
               "sign-in routes per client IP (login, register, refresh, bootstrap, password reset, OAuth callback); "
               "password change per user"},
              {"SHARDLYN_MFA_RATE_LIMIT", "5/min", "MFA attempts per client (IP for the challenge, user otherwise)"},
              {"SHARDLYN_SUPPORT_RATE_LIMIT", "10/h", "support messages per user"},
              {"SHARDLYN_LOCKOUT_THRESHOLD", "5", "failed logins before an account is locked"},
              {"SHARDLYN_LOCKOUT_SECONDS", "60", "first lock; doubles with every further failure (up to an hour)"},
              {"SHARDLYN_INVITE_TTL_S", "604800", "how long an organisation invite stays valid"},
              {"SHARDLYN_GITHUB_CLIENT_ID", "", "GitHub OAuth app client id (unset: GitHub sign-in answers 501)"},
              {"SHARDLYN_GITHUB_CLIENT_SECRET", "", "GitHub OAuth app client secret", true},
              {"SHARDLYN_GITHUB_AUTHORIZE_URL", "https://github.com/login/oauth/authorize",
               "GitHub authorize endpoint"},
              {"SHARDLYN_GITHUB_TOKEN_URL", "https://github.com/login/oauth/access_token", "GitHub token endpoint"},
              {"SHARDLYN_GITHUB_API_URL", "https://api.github.com", "GitHub REST API base URL"},
              {"SHARDLYN_GITHUB_REDIRECT_URL", "", "callback URL sent to GitHub as redirect_uri (unset: the app's)"},
              {"SHARDLYN_HELPSCOUT_SECRET", "", "HelpScout Beacon secret (unset: the signature endpoint answers 501)",
               true},
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
          },
  };
  for (auto& option : common::mail_options("Shardlyn <no-reply@shardlyn.local>")) info.options.push_back(option);
  return info;
}

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

// The domain objects, owned by the service (routes refer to them).
struct Shardlyn {
  Shardlyn(common::Service& service, store::Database& db, std::string jwt_secret, const std::string& key32)
      : access(db, std::move(jwt_secret), security::hmac_sha256(key32, "shardlyn api token digests"),
               service.config().get_bool("SHARDLYN_INTEGRATION_API")),
        totp(key32, "Shardlyn"),
        mail(db, common::Mailer(common::read_mail_settings(service.config(), service.data_dir(), "X-Shardlyn-Mail"))),
        accounts(db, access, totp, mail, account_settings(service.config())),
        platform(db, access, mail, platform_settings(service.config())),
        github(db, access, accounts, github_settings(service.config())) {}

  static shardlyn::AccountSettings account_settings(const common::Config& c) {
    shardlyn::AccountSettings s;
    s.lockout.threshold = static_cast<int>(c.get_int("SHARDLYN_LOCKOUT_THRESHOLD", 1, 1000));
    s.lockout.base_s = c.get_int("SHARDLYN_LOCKOUT_SECONDS", 1, 86400);
    s.lockout.max_s = std::max<std::int64_t>(s.lockout.base_s, 3600);
    s.app_url = link_base(c);
    return s;
  }
  static shardlyn::PlatformSettings platform_settings(const common::Config& c) {
    shardlyn::PlatformSettings s;
    s.invite_ttl_s = c.get_int("SHARDLYN_INVITE_TTL_S", 1, 90LL * 86400);
    s.helpscout_secret = c.get("SHARDLYN_HELPSCOUT_SECRET");
    s.support_email = c.get("SHARDLYN_SUPPORT_EMAIL");
    s.backup_dir = c.get("SHARDLYN_SYSTEM_BACKUP_DIR");
    s.backup_interval_s = c.get_int("SHARDLYN_SYSTEM_BACKUP_INTERVAL_S", 1, 30LL * 86400);
    s.backup_keep = c.get_int("SHARDLYN_SYSTEM_BACKUP_KEEP", 1, 1000);
    s.app_url = link_base(c);
    s.org_invite_limit = limit(c, "SHARDLYN_ORG_INVITE_LIMIT");
    s.user_invite_limit = limit(c, "SHARDLYN_USER_INVITE_LIMIT");
    return s;
  }
  static shardlyn::GitHubSettings github_settings(const common::Config& c) {
    return {c.get("SHARDLYN_GITHUB_CLIENT_ID"),     c.get("SHARDLYN_GITHUB_CLIENT_SECRET"),
            c.get("SHARDLYN_GITHUB_AUTHORIZE_URL"), c.get("SHARDLYN_GITHUB_TOKEN_URL"),
            c.get("SHARDLYN_GITHUB_API_URL"),       c.get("SHARDLYN_GITHUB_REDIRECT_URL")};
  }

  shardlyn::Access access;
  identity::TotpStore totp;
  common::MailQueue mail;
  shardlyn::Accounts accounts;
  shardlyn::Platform platform;
  shardlyn::GitHub github;
};

void setup(common::Service& service) {
  std::string jwt_secret = service.signing_secret("SHARDLYN_JWT_SECRET");
  std::string key32 = service.encryption_key("SHARDLYN_ENCRYPTION_KEY");
  store::Database& db = service.open_database("shardlyn.db", shardlyn_api_migrations(), identity::migrations());
  auto& app = service.make<Shardlyn>(service, db, jwt_secret, key32);
  service.limit_class("login", limit(service.config(), "SHARDLYN_LOGIN_RATE_LIMIT"));
  service.limit_class("mfa", limit(service.config(), "SHARDLYN_MFA_RATE_LIMIT"));
  service.limit_class("support", limit(service.config(), "SHARDLYN_SUPPORT_RATE_LIMIT"));
  app.access.guard(service);
  app.access.add(service, shardlyn::auth_routes(app.accounts, app.github));
  app.access.add(service, shardlyn::user_routes(app.accounts, app.platform));
  app.access.add(service, shardlyn::api_token_routes(app.platform));
  app.access.add(service, shardlyn::organization_routes(app.platform));
  app.access.add(service, shardlyn::settings_routes(app.platform));
  app.access.add(service, shardlyn::admin_routes(app.platform));
  app.access.add(service, shardlyn::page_routes(app.accounts, app.platform));
  if (auto problems = shardlyn::Access::check_document(service.router().routes(), service.info().openapi_yaml);
      !problems.empty())
    throw common::ConfigError("route guards and the OpenAPI document disagree: " + problems.front() + " (and " +
                              std::to_string(problems.size() - 1) + " more)");
  const auto& settings = app.platform.settings();
  if (!settings.backup_dir.empty())
    service.every("system backup", std::chrono::seconds(settings.backup_interval_s),
                  [&app] { app.platform.run_system_backup(); });
  service.every("retry undelivered mail", app.mail.retry_interval(), [&app] { app.mail.deliver_due(); });
  service.every("purge ended sessions", std::chrono::hours(1), [&app] { app.accounts.purge_expired(); });
  // Reset requests a restart interrupted before their background step ran.
  service.every("pending password resets", std::chrono::minutes(1), [&app] { app.accounts.process_reset_requests(); });
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
