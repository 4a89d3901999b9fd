// manager: Panguard Manager (agents, heartbeats, threat events, policies, SSE, dashboard).
#include <boost/json/serialize.hpp>

#include "common/embedded.hpp"
#include "common/service.hpp"
#include "fleet.hpp"
#include "fleet_auth.hpp"
#include "manager_tls.hpp"
#include "routes.hpp"

std::span<const common::EmbeddedFile> manager_migrations();
std::span<const common::EmbeddedFile> manager_openapi();

namespace {

std::vector<common::OptionSpec> options() {
  auto out = manager::tls_options();
  out.push_back({"MANAGER_MAX_AGENTS", "10000", "most agents that may register"});
  out.push_back({"MANAGER_AGENT_RATE_LIMIT", "60/min",
                 "per agent, whatever address it calls from: heartbeats, events, its record, metrics and policy"});
  out.push_back({"MANAGER_STALE_AFTER_S", "90", "seconds without a heartbeat before an agent is stale"});
  out.push_back({"MANAGER_OFFLINE_AFTER_S", "300", "seconds without a heartbeat before an agent is offline"});
  out.push_back({"MANAGER_CORRELATION_WINDOW_S", "300", "seconds within which threats on different agents correlate"});
  out.push_back({"MANAGER_THREAT_RETENTION_DAYS", "30", "days threats are kept"});
  out.push_back({"MANAGER_RETENTION_SWEEP_S", "3600", "seconds between purges of threats past the retention"});
  out.push_back({"MANAGER_SSE_KEEPALIVE_S", "30", "seconds between keep-alive comments on event streams"});
  // Heartbeats and threat batches wait on commits; more workers let them share commits.
  out.push_back({"WORKER_THREADS", "64", "threads for database writes and other blocking work"});
  return out;
}

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
      .options = options(),
  };
}

manager::AgentSettings agent_settings(const common::Config& c) {
  manager::AgentSettings s{.max_agents = c.get_int("MANAGER_MAX_AGENTS", 1, 10'000'000),
                           .stale_after_s = c.get_int("MANAGER_STALE_AFTER_S", 1, 86400),
                           .offline_after_s = c.get_int("MANAGER_OFFLINE_AFTER_S", 1, 30 * 86400)};
  if (s.offline_after_s <= s.stale_after_s)
    throw common::ConfigError("MANAGER_OFFLINE_AFTER_S must be greater than MANAGER_STALE_AFTER_S");
  return s;
}

manager::ThreatSettings threat_settings(const common::Config& c) {
  return {.correlation_window_s = c.get_int("MANAGER_CORRELATION_WINDOW_S", 1, 7 * 86400),
          .retention_days = c.get_int("MANAGER_THREAT_RETENTION_DAYS", 1, 3650)};
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
  const auto& config = service.config();
  manager::configure_tls(service);
  auto& db = service.open_database("manager.db", manager_migrations());
  auto& fleet = service.make<manager::Fleet>(db, agent_settings(config), threat_settings(config));
  manager::install_fleet_auth(service, manager::fleet_token(service), fleet.agents);
  service.limit_class("agent", config.get_limit("MANAGER_AGENT_RATE_LIMIT"));
  manager::add_agent_routes(service, fleet);
  manager::add_threat_routes(service, fleet);
  manager::add_policy_routes(service, fleet);
  manager::add_stream_routes(service, fleet);
  manager::add_dashboard_routes(service);

  auto sweep_every = std::chrono::seconds(std::clamp<std::int64_t>(fleet.agents.settings().stale_after_s / 3, 1, 10));
  service.every("agent status sweep", sweep_every, [&fleet] { announce_transitions(fleet); });
  service.every("threat retention", std::chrono::seconds(config.get_int("MANAGER_RETENTION_SWEEP_S", 1, 86400)),
                [&fleet] { fleet.threats.purge_expired(); });
  service.every("event stream keep-alive", std::chrono::seconds(config.get_int("MANAGER_SSE_KEEPALIVE_S", 1, 3600)),
                [&fleet] { fleet.events.keepalive(); });
  service.health_fields([&fleet] {
    return boost::json::object{
        {"agents", fleet.agents.total()}, {"running", true}, {"streams", fleet.events.subscribers()}};
  });
  service.metrics().gauge_callback("manager_event_stream_subscribers", "Open event-stream connections",
                                   [&fleet] { return static_cast<double>(fleet.events.subscribers()); });
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
