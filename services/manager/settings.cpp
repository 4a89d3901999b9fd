#include "settings.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace manager {

std::vector<common::OptionSpec> options() {
  return {
      {"MANAGER_TLS", "self-signed", "self-signed (generated into DATA_DIR/tls), files, or off behind a TLS proxy"},
      {"MANAGER_TLS_CERT", "", "PEM certificate chain when MANAGER_TLS=files"},
      {"MANAGER_TLS_KEY", "", "PEM private key file when MANAGER_TLS=files"},
      {"MANAGER_AUTH_TOKEN", "",
       "fleet bearer token (at least 32 characters); unset in development: generated into DATA_DIR/secrets", true},
      {"MANAGER_MAX_AGENTS", "10000", "most agents that may register"},
      {"MANAGER_AGENT_RATE_LIMIT", "60/min",
       "per agent, whatever address it calls from: heartbeats, events, its record, metrics and policy"},
      {"MANAGER_STALE_AFTER_S", "90", "seconds without a heartbeat before an agent is stale"},
      {"MANAGER_OFFLINE_AFTER_S", "300", "seconds without a heartbeat before an agent is offline"},
      {"MANAGER_CORRELATION_WINDOW_S", "300", "seconds within which threats on different agents correlate"},
      {"MANAGER_THREAT_RETENTION_DAYS", "30", "days threats are kept"},
      {"MANAGER_RETENTION_SWEEP_S", "3600", "seconds between purges of threats past the retention"},
      {"MANAGER_SSE_KEEPALIVE_S", "30", "seconds between keep-alive comments on event streams"},
      // Heartbeats and threat batches wait on commits; more workers let them share commits.
      {"WORKER_THREADS", "64", "threads for database writes and other blocking work"},
  };
}

namespace {

TlsMode tls_mode(const common::Config& c) {
  std::string mode = c.get("MANAGER_TLS");
  if (mode == "self-signed") return TlsMode::SelfSigned;
  if (mode == "files") {
    if (!c.is_set("MANAGER_TLS_CERT") || !c.is_set("MANAGER_TLS_KEY"))
      throw common::ConfigError("MANAGER_TLS=files needs MANAGER_TLS_CERT and MANAGER_TLS_KEY");
    return TlsMode::Files;
  }
  if (mode == "off") return TlsMode::Off;
  throw common::ConfigError("MANAGER_TLS must be self-signed, files or off (got '" + mode + "')");
}

AgentSettings agent_settings(const common::Config& c) {
  AgentSettings s{.max_agents = c.get_int("MANAGER_MAX_AGENTS", 1, 10'000'000),
                  .stale_after_s = c.get_int("MANAGER_STALE_AFTER_S", 1, 86400),
                  .offline_after_s = c.get_int("MANAGER_OFFLINE_AFTER_S", 1, 30 * 86400)};
  if (s.offline_after_s <= s.stale_after_s)
    throw common::ConfigError("MANAGER_OFFLINE_AFTER_S must be greater than MANAGER_STALE_AFTER_S");
  return s;
}

}  // namespace

Settings read(const common::Config& c) {
  Settings s;
  s.host = c.get("MANAGER_HOST");
  s.port = c.get("MANAGER_PORT");
  s.tls = tls_mode(c);
  s.tls_cert_file = c.get("MANAGER_TLS_CERT");
  s.tls_key_file = c.get("MANAGER_TLS_KEY");
  s.fleet_token_configured = c.is_set("MANAGER_AUTH_TOKEN");
  s.agents = agent_settings(c);
  s.threats = {.correlation_window_s = c.get_int("MANAGER_CORRELATION_WINDOW_S", 1, 7 * 86400),
               .retention_days = c.get_int("MANAGER_THREAT_RETENTION_DAYS", 1, 3650)};
  s.agent_rate_limit = c.get_limit("MANAGER_AGENT_RATE_LIMIT");
  // A third of the stale time, so a transition is announced well before the next one is due.
  s.status_sweep = std::chrono::seconds(std::clamp<std::int64_t>(s.agents.stale_after_s / 3, 1, 10));
  s.retention_sweep = std::chrono::seconds(c.get_int("MANAGER_RETENTION_SWEEP_S", 1, 86400));
  s.sse_keepalive = std::chrono::seconds(c.get_int("MANAGER_SSE_KEEPALIVE_S", 1, 3600));
  return s;
}

}  // namespace manager
