// auth-server: Panguard Auth Server (users, sessions, TOTP, GDPR, subscriptions).
#include "common/embedded.hpp"
#include "common/error.hpp"
#include "common/service.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"

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
  auto jwt_secret = service.secret("JWT_SECRET", [] { return security::random_token(48); });
  if (jwt_secret.size() < 32) throw common::ConfigError("JWT_SECRET must be at least 32 bytes");
  auto totp_key = service.secret("TOTP_ENCRYPTION_KEY", [] { return security::random_hex(32); });
  if (!security::hex_decode(totp_key) || totp_key.size() != 64)
    throw common::ConfigError("TOTP_ENCRYPTION_KEY must be 64 hex characters (32 bytes)");
  service.open_database("auth.db", auth_server_migrations());
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
