// shardlyn-agent: the node agent (registers with the API, heartbeats, runs instances); serves
// its own health and metrics. `shardlyn-agent supervise <state dir> <root>` is the supervisor
// of one instance (see runtime/supervisor.hpp), started by the agent itself.
#include <string_view>

#include "common/embedded.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "control/control_plane.hpp"
#include "instances/reconciler.hpp"
#include "http/node_routes.hpp"
#include "node/metrics.hpp"
#include "runtime/drivers.hpp"
#include "runtime/stdin_holder.hpp"
#include "runtime/supervisor.hpp"
#include "settings.hpp"

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
      .options = agent::options(),
  };
}

void setup(common::Service& service) {
  service.open_database("agent.db", shardlyn_agent_migrations());
  auto settings = agent::read(service.config(), service.data_dir());
  auto& node = service.make<agent::NodeMetrics>(settings.proc_root, service.data_dir());
  agent::export_node_gauges(service.metrics(), node);
  service.add(agent::node_routes(node));
  auto& runtime = service.make<agent::Runtime>(agent::open_driver(settings, service.data_dir()));
  auto& reconciler = service.make<agent::Reconciler>(runtime.driver(), runtime.recovered(), service.data_dir());
  agent::export_instance_gauges(service.metrics(), runtime.driver(), [&reconciler] { return reconciler.handles(); });
  if (settings.api_url.empty()) {
    common::log::info("SHARDLYN_API_URL is not set: the agent runs unmanaged (no registration, no desired state)");
    return;
  }
  auto& disk = service.make<agent::InstanceDiskUsage>(settings.instances, settings.disk_usage_interval);
  auto& control =
      service.make<agent::ControlPlane>(settings, service.data_dir(), node, reconciler, disk, service.metrics());
  service.health_fields([&control] { return boost::json::object{{"control", control.health()}}; });
  service.on_shutdown([&control, &reconciler] {
    control.stop();
    reconciler.finish_stops();  // Service destroys what it made in creation order: the driver first
  });
  control.start();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "supervise") return agent::supervise(argv[2], argv[3]);
  if (argc == 5 && std::string_view(argv[1]) == "hold-stdin") return agent::hold_stdin(argv[2], argv[3], argv[4]);
  return common::run_service(describe(), argc, argv, setup);
}
