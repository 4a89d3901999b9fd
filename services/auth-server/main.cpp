// auth-server: Panguard Auth Server (users, sessions, TOTP two-factor, GDPR, subscriptions).
#include <chrono>

#include "accounts.hpp"
#include "admin.hpp"
#include "billing.hpp"
#include "common/embedded.hpp"
#include "common/mail.hpp"
#include "common/service.hpp"
#include "config.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "gdpr.hpp"
#include "input.hpp"
#include "routes.hpp"
#include "tokens.hpp"
#include "totp.hpp"
#include "usage.hpp"

std::span<const common::EmbeddedFile> auth_server_migrations();
std::span<const common::EmbeddedFile> auth_server_openapi();

namespace {

common::ServiceInfo describe() {
  common::ServiceInfo info{
      .name = "auth-server",
      .summary = "Panguard Auth Server: registration, login, sessions, TOTP two-factor, GDPR, subscriptions",
      .metrics_prefix = "auth_server",
      .style = common::ResponseStyle::Envelope,
      .host_env = "AUTH_HOST",
      .port_env = "AUTH_PORT",
      .default_port = 3000,
      .rate_limit_env = "AUTH_RATE_LIMIT",
      .default_rate_limit = "20/min",
      .openapi_yaml = auth_server_openapi().front().data,
      .options = {{"JWT_SECRET", "",
                   "HMAC key for HS256 access tokens (at least 32 bytes; unused with JWT_PRIVATE_KEY_FILE)", true},
                  {"TOTP_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for TOTP secrets", true}},
  };
  for (auto& option : auth::setting_options()) info.options.push_back(std::move(option));
  for (auto& option : common::mail_options("Panguard <no-reply@panguard.local>")) info.options.push_back(option);
  return info;
}

// The domain objects, owned by the service (routes refer to them).
struct AuthServer {
  AuthServer(common::Service& service, store::Database& db, security::JwtCodec codec, const std::string& totp_key)
      : settings(auth::read_settings(service.config())),
        tokens(std::move(codec), settings.access_ttl_s),
        mail(db, common::Mailer(common::read_mail_settings(service.config(), service.data_dir(), "X-Panguard-Mail"))),
        two_factor(db, totp_key),
        accounts(db, settings, tokens, mail, two_factor),
        administration(db, two_factor),
        privacy(db, two_factor, mail),
        billing(db, {settings.billing_checkout_url, settings.billing_cancel_url, settings.billing_api_key,
                     settings.billing_webhook_secret, settings.base_url + "/billing",
                     std::chrono::seconds(settings.billing_timeout_s)}),
        usage(db, settings.usage_service_token) {}
  auth::Settings settings;
  auth::AccessTokens tokens;
  common::MailQueue mail;
  auth::TwoFactor two_factor;
  auth::Accounts accounts;
  auth::Administration administration;
  auth::Privacy privacy;
  auth::Billing billing;
  auth::Usage usage;
};
// AUTH_BOOTSTRAP_ADMIN_*: the first administrator, checked by the same rules as a registration.
void bootstrap_admin(const common::Config& config, auth::Administration& administration) {
  bool email = config.is_set("AUTH_BOOTSTRAP_ADMIN_EMAIL"), password = config.is_set("AUTH_BOOTSTRAP_ADMIN_PASSWORD");
  if (!email && !password) return;
  if (email != password)
    throw common::ConfigError("AUTH_BOOTSTRAP_ADMIN_EMAIL and AUTH_BOOTSTRAP_ADMIN_PASSWORD must be set together");
  boost::json::object given{{"email", config.get("AUTH_BOOTSTRAP_ADMIN_EMAIL")},
                            {"name", config.get("AUTH_BOOTSTRAP_ADMIN_NAME")},
                            {"password", config.get("AUTH_BOOTSTRAP_ADMIN_PASSWORD")}};
  std::string address, name, secret;
  try {
    address = auth::input::email(given, "email");
    name = auth::input::name(given, "name");
    secret = auth::input::new_password(given, "password");
  } catch (const common::ApiError& e) {
    throw common::ConfigError(std::string("AUTH_BOOTSTRAP_ADMIN_*: ") + e.what());
  }
  if (auto id = administration.bootstrap_admin(address, name, secret))
    common::log::info("created the bootstrap administrator", {{"user_id", *id}, {"email", address}});
}

void setup(common::Service& service) {
  security::JwtCodec codec = auth::signing_codec(service);
  std::string totp_key = service.encryption_key("TOTP_ENCRYPTION_KEY");
  store::Database& db = service.open_database("auth.db", auth_server_migrations());
  // Deleted and overwritten content is zeroed in the file (whatever the SQLite build's default),
  // so an erased account leaves no personal data in free space; the writer is the only
  // connection that changes anything.
  db.write([](store::Connection& c) { c.exec("PRAGMA secure_delete = ON"); });
  auto& server = service.make<AuthServer>(service, db, std::move(codec), totp_key);
  bootstrap_admin(service.config(), server.administration);
  auth::add_auth_schemes(service, server.tokens, db);
  service.limit_class("register", server.settings.register_limit);
  service.limit_class("login", server.settings.login_limit);
  service.limit_class("reset", server.settings.reset_limit);
  service.limit_class("totp", server.settings.totp_limit);
  service.limit_class("webhook", server.settings.webhook_limit);
  auth::add_auth_routes(service, server.accounts);
  auth::add_totp_routes(service, server.two_factor);
  auth::add_gdpr_routes(service, server.privacy);
  auth::add_admin_routes(service, server.administration);
  auth::add_billing_routes(service, server.billing);
  auth::add_usage_routes(service, server.usage);
  auth::add_key_routes(service, server.tokens);
  auth::add_page_routes(service);
  service.every("retry undelivered mail", server.mail.retry_interval(), [&server] { server.mail.deliver_due(); });
  service.every("purge ended sessions and spent tokens", std::chrono::seconds(server.settings.purge_interval_s),
                [&server] {
                  server.accounts.purge_expired();
                  server.usage.purge(server.settings.usage_retention_days);
                });
  service.every("expire cancelled subscriptions", std::chrono::seconds(server.settings.billing_sweep_interval_s),
                [&server] { server.billing.expire_lapsed(); });
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
