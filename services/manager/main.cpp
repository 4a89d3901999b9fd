// manager: Panguard Manager (agents, heartbeats, threat events, policies, SSE, dashboard).
#include "agents.hpp"
#include "common/embedded.hpp"
#include "common/service.hpp"
#include "fleet_auth.hpp"
#include "manager_tls.hpp"
#include "routes.hpp"

std::span<const common::EmbeddedFile> manager_migrations();
std::span<const common::EmbeddedFile> manager_openapi();

namespace {

std::vector<common::OptionSpec> options() {
  auto out = manager::tls_options();
  out.push_back({"MANAGER_MAX_AGENTS", "10000", "most agents that may register"});
  out.push_back({"MANAGER_STALE_AFTER_S", "90", "seconds without a heartbeat before an agent is stale"});
  out.push_back({"MANAGER_OFFLINE_AFTER_S", "300", "seconds without a heartbeat before an agent is offline"});
  out.push_back({"MANAGER_CORRELATION_WINDOW_S", "300", "seconds within which threats on different agents correlate"});
  out.push_back({"MANAGER_THREAT_RETENTION_DAYS", "30", "days threats are kept"});
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

void setup(common::Service& service) {
  manager::configure_tls(service);
  auto& db = service.open_database("manager.db", manager_migrations());
  auto& agents = service.make<manager::Agents>(db, agent_settings(service.config()));
  std::optional<std::string> fleet_token;
  if (service.config().is_set("MANAGER_AUTH_TOKEN")) fleet_token = service.config().get("MANAGER_AUTH_TOKEN");
  manager::install_fleet_auth(service, fleet_token, agents);
  auto& threats = service.make<manager::Threats>(
      db, manager::ThreatSettings{
              .correlation_window_s = service.config().get_int("MANAGER_CORRELATION_WINDOW_S", 1, 7 * 86400),
              .retention_days = service.config().get_int("MANAGER_THREAT_RETENTION_DAYS", 1, 3650)});
  service.every("threat retention", std::chrono::hours(1), [&threats] { threats.purge_expired(); });
  auto& policies = service.make<manager::Policies>(db);
  manager::add_agent_routes(service, agents, policies);
  manager::add_policy_routes(service, policies);
  manager::add_threat_routes(service, agents, threats);
}

}  // namespace

int main(int argc, char** argv) { return common::run_service(describe(), argc, argv, setup); }
