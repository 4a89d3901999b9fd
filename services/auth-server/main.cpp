// auth-server: Panguard Auth Server (users, sessions, TOTP, GDPR, subscriptions).
#include "common/embedded.hpp"
#include "common/service.hpp"

std::span<const common::EmbeddedFile> auth_server_migrations();
std::span<const common::EmbeddedFile> auth_server_openapi();

namespace {

common::ServiceInfo describe() {
  return {
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
      .options = {{"JWT_SECRET", "", "HMAC key for access tokens (at least 32 bytes)", true},
                  {"TOTP_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for TOTP secrets", true}},
  };
}

void setup(common::Service& service) {
  service.signing_secret("JWT_SECRET");
  service.encryption_key("TOTP_ENCRYPTION_KEY");
  service.open_database("auth.db", auth_server_migrations());
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
