// auth-server: Panguard Auth Server (users, sessions, TOTP two-factor, GDPR, subscriptions).
#include <chrono>

#include "accounts.hpp"
#include "admin.hpp"
#include "billing.hpp"
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/mail.hpp"
#include "common/service.hpp"
#include "gdpr.hpp"
#include "identity/schema.hpp"
#include "input.hpp"
#include "routes.hpp"
#include "settings.hpp"
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
      .options = auth::settings::options(),
  };
  for (auto& option : common::mail_options("Panguard <no-reply@panguard.local>")) info.options.push_back(option);
  return info;
}

// The domain objects, owned by the service (routes refer to them).
struct AuthServer {
  AuthServer(common::Service& service, auth::Settings given, store::Database& db, security::JwtCodec codec,
             const std::string& totp_key)
      : settings(std::move(given)),
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
void bootstrap_admin(const auth::Settings::BootstrapAdmin& admin, auth::Administration& administration) {
  if (admin.email.empty()) return;
  boost::json::object given{{"email", admin.email}, {"name", admin.name}, {"password", admin.password}};
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
  auth::Settings settings = auth::settings::read(service.config());
  security::JwtCodec codec = auth::signing_codec(service, settings.jwt_private_key_file);
  std::string totp_key = service.encryption_key("TOTP_ENCRYPTION_KEY");
  store::Database& db = service.open_database("auth.db", auth_server_migrations(), identity::migrations());
  // Deleted and overwritten content is zeroed in the file (whatever the SQLite build's default),
  // so an erased account leaves no personal data in free space; the writer is the only
  // connection that changes anything.
  db.write([](store::Connection& c) { c.exec("PRAGMA secure_delete = ON"); });
  auto& server = service.make<AuthServer>(service, std::move(settings), db, std::move(codec), totp_key);
  bootstrap_admin(server.settings.bootstrap_admin, server.administration);
  auth::add_auth_schemes(service, server.tokens, db);
  service.limit_class("register", server.settings.register_limit);
  service.limit_class("login", server.settings.login_limit);
  service.limit_class("reset", server.settings.reset_limit);
  service.limit_class("totp", server.settings.totp_limit);
  service.limit_class("webhook", server.settings.webhook_limit);
  auth::add_billing_webhook_scheme(service, server.billing);
  auth::add_usage_service_scheme(service, server.usage);
  service.add(auth::auth_routes(server.accounts));
  service.add(auth::totp_routes(server.two_factor));
  service.add(auth::gdpr_routes(server.privacy));
  service.add(auth::billing_routes(server.billing));
  service.add(auth::usage_routes(server.usage));
  service.add(auth::admin_routes(server.administration));
  service.add(auth::key_routes(server.tokens));
  service.add(auth::page_routes());
  service.every("pending password resets", std::chrono::minutes(1),
                [&server] { server.accounts.process_reset_requests(); });
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
