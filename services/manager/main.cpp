// manager: Panguard Manager (agents, heartbeats, threat events, policies, SSE, dashboard).
#include <boost/json/serialize.hpp>

#include "common/embedded.hpp"
#include "common/migrate_to.hpp"
#include "common/service.hpp"
#include "common/shared_events.hpp"
#include "fleet.hpp"
#include "fleet_auth.hpp"
#include "manager_tls.hpp"
#include "routes.hpp"
#include "settings.hpp"

std::span<const common::EmbeddedFile> manager_migrations();
std::span<const common::EmbeddedFile> manager_postgres_migrations();
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
      .options = manager::options(),
      .postgres_migrations = manager_postgres_migrations(),
  };
}

// Status transitions found by the sweep become agent_online / agent_stale / agent_offline.
void announce_transitions(manager::Fleet& fleet) {
  for (const auto& t : fleet.agents.sweep())
    fleet.events.publish(
        "agent_" + t.to,
        boost::json::serialize(boost::json::object{
            {"agentId", t.agent_id}, {"hostname", t.hostname}, {"status", t.to}, {"previous", t.from}}));
}

void setup(common::Service& service) {
  const auto settings = manager::read(service.config());
  manager::configure_tls(service, settings);
  auto& db = service.open_database("manager.db", manager_migrations());
  auto& fleet = service.make<manager::Fleet>(db, settings.agents, settings.threats);
  manager::install_fleet_auth(service, manager::fleet_token(service, settings), fleet.agents);
  service.limit_class("agent", settings.agent_rate_limit);
  service.add(manager::agent_routes(fleet));
  service.add(manager::threat_routes(fleet));
  service.add(manager::policy_routes(fleet));
  service.add(manager::stream_routes(fleet));
  service.add(manager::dashboard_routes());

  if (db.postgres()) {
    // Replicas share the stream: events go through the database (decision 0035).
    auto& shared = service.make<common::SharedEvents>(fleet.events, db, "stream_events", "manager_events", 1000);
    service.on_shutdown([&shared] { shared.stop(); });
    service.leader_every("event stream trim", std::chrono::minutes(10), [&shared] { shared.trim(10000); });
  }
  service.leader_every("agent status sweep", settings.status_sweep, [&fleet] { announce_transitions(fleet); });
  service.leader_every("threat retention", settings.retention_sweep, [&fleet] { fleet.threats.purge_expired(); });
  service.every("event stream keep-alive", settings.sse_keepalive, [&fleet] { fleet.events.keepalive(); });
  service.health_fields([&fleet] {
    return boost::json::object{
        {"agents", fleet.agents.total()}, {"running", true}, {"streams", fleet.events.subscribers()}};
  });
  service.metrics().gauge_callback("manager_event_stream_subscribers", "Open event-stream connections",
                                   [&fleet] { return static_cast<double>(fleet.events.subscribers()); });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "migrate-to") {
    return common::migrate_to_command(argc - 2, argv + 2,
                                      {"manager", common::data_dir_file("manager", "manager.db"), manager_migrations(),
                                       manager_postgres_migrations()});
  }
  return common::run_service(describe(), argc, argv, setup);
}
