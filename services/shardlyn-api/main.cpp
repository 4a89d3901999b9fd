// shardlyn-api: the Shardlyn control plane (identity, organisations, nodes, workloads, instances).
#include "common/embedded.hpp"
#include "common/service.hpp"

std::span<const common::EmbeddedFile> shardlyn_api_migrations();
std::span<const common::EmbeddedFile> shardlyn_api_openapi();

namespace {

common::ServiceInfo describe() {
  return {
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
      .options = {{"SHARDLYN_JWT_SECRET", "", "HMAC key for access tokens (at least 32 bytes)", true},
                  {"SHARDLYN_ENCRYPTION_KEY", "", "64 hex characters: AES-256-GCM key for secrets at rest", true}},
  };
}

void setup(common::Service& service) {
  service.signing_secret("SHARDLYN_JWT_SECRET");
  service.encryption_key("SHARDLYN_ENCRYPTION_KEY");
  service.open_database("shardlyn.db", shardlyn_api_migrations());
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
