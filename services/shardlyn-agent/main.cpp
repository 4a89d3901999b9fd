// shardlyn-agent: the node agent (registers with the API, heartbeats, runs instances); serves
// its own health and metrics.
#include "common/embedded.hpp"
#include "common/service.hpp"

std::span<const common::EmbeddedFile> shardlyn_agent_migrations();
std::span<const common::EmbeddedFile> shardlyn_agent_openapi();

namespace {

common::ServiceInfo describe() {
  return {
      .name = "shardlyn-agent",
      .summary = "Shardlyn node agent: registers with the control plane, reports and runs instances",
      .metrics_prefix = "shardlyn_agent",
      .style = common::ResponseStyle::Bare,
      .host_env = "AGENT_HOST",
      .port_env = "AGENT_METRICS_PORT",
      .default_port = 9101,
      .openapi_yaml = shardlyn_agent_openapi().front().data,
  };
}

void setup(common::Service& service) { service.open_database("agent.db", shardlyn_agent_migrations()); }

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
