// manager: Panguard Manager (agents, heartbeats, threat events, policies, SSE, dashboard).
#include "common/embedded.hpp"
#include "common/service.hpp"
#include "manager_tls.hpp"

std::span<const common::EmbeddedFile> manager_migrations();
std::span<const common::EmbeddedFile> manager_openapi();

namespace {

common::ServiceInfo describe() {
  return {
      .name = "manager",
      .summary = "Panguard Manager: agent fleet, heartbeats, threat events, policies, live dashboard",
      .metrics_prefix = "manager",
      .style = common::ResponseStyle::Envelope,
      .host_env = "MANAGER_HOST",
      .port_env = "MANAGER_PORT",
      .default_port = 8443,
      .rate_limit_env = "MANAGER_RATE_LIMIT",
      .default_rate_limit = "60/min",
      .openapi_yaml = manager_openapi().front().data,
      .options = manager::tls_options(),
  };
}

void setup(common::Service& service) {
  manager::configure_tls(service);
  service.open_database("manager.db", manager_migrations());
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
