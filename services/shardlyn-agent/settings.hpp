#pragma once
// The agent's settings: what it reads from the environment (or the matching flags).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/config.hpp"

namespace agent {

// Which runtime runs the instances: docker when its socket answers (auto), or one forced.
enum class DriverChoice { Auto, Process, Docker };

struct Settings {
  DriverChoice driver = DriverChoice::Auto;
  std::string docker_socket;         // filesystem path of DOCKER_HOST's unix socket
  std::filesystem::path instances;   // DATA_DIR/instances: one root per instance
  std::filesystem::path proc_root;   // /proc (a test may point it at a captured tree)
  std::chrono::seconds disk_usage_interval{60};  // each instance root's disk usage, measured again
  // The control plane (control/): unset api_url = the agent runs unmanaged.
  std::string api_url;          // http(s)://host:port of shardlyn-api, no trailing slash
  std::string register_token;   // one-time; needed only until DATA_DIR/credentials.json exists
  std::string api_ca_file;      // trust only this CA for the API's certificate (PEM)
  std::filesystem::path credentials;  // DATA_DIR/credentials.json (0600): node id and agent token
};

std::vector<common::OptionSpec> options();
// Throws common::ConfigError naming the variable when a value is not acceptable.
Settings read(const common::Config& config, const std::filesystem::path& data_dir);

// unix:///var/run/docker.sock -> /var/run/docker.sock; other schemes are refused.
std::string docker_socket_path(const std::string& docker_host);

}  // namespace agent
