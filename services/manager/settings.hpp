#pragma once
// The manager's settings: what it reads from the environment (or the matching flags), in one
// typed record that main hands to the domain. MANAGER_HOST, MANAGER_PORT and MANAGER_RATE_LIMIT
// are declared by the service skeleton (ServiceInfo) and read here like the rest.
#include <chrono>
#include <string>
#include <vector>

#include "agents.hpp"
#include "common/config.hpp"
#include "common/limiter.hpp"
#include "threats.hpp"

namespace manager {

enum class TlsMode { SelfSigned, Files, Off };

struct Settings {
  std::string host, port;
  TlsMode tls = TlsMode::SelfSigned;
  std::string tls_cert_file, tls_key_file;  // when tls == Files
  bool fleet_token_configured = false;      // MANAGER_AUTH_TOKEN set (else generated in development)
  AgentSettings agents;
  ThreatSettings threats;
  common::LimitSpec agent_rate_limit;
  std::chrono::seconds status_sweep{10}, retention_sweep{3600}, sse_keepalive{30};
};

std::vector<common::OptionSpec> options();
// Throws common::ConfigError naming the variable when a value or a combination is not acceptable.
Settings read(const common::Config& config);

}  // namespace manager
