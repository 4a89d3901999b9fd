#include "settings.hpp"

#include "common/error.hpp"

namespace agent {

std::vector<common::OptionSpec> options() {
  return {
      {"AGENT_DRIVER", "auto", "runtime driver: auto (docker when DOCKER_HOST answers, else process), process, docker"},
      {"DOCKER_HOST", "unix:///var/run/docker.sock", "Docker Engine API socket (unix:// only)"},
      {"AGENT_PROC_ROOT", "/proc", "where the kernel's process and system files are read (node metrics)"},
      {"AGENT_DISK_USAGE_INTERVAL_S", "60", "seconds between two measurements of each instance root's disk usage"},
      // The spec names these two (decision 0020: names a spec gives stay as given).
      {"SHARDLYN_API_URL", "", "shardlyn-api base URL (http(s)://host:port); unset = no control plane"},
      {"SHARDLYN_REGISTER_TOKEN", "", "one-time register token (POST /v1/nodes/register-token); only the first start needs it",
       true},
      {"AGENT_API_CA_FILE", "", "PEM CA certificate the API's TLS certificate must chain to (default: system store)"},
  };
}

std::string docker_socket_path(const std::string& docker_host) {
  constexpr std::string_view scheme = "unix://";
  if (!docker_host.starts_with(scheme) || docker_host.size() == scheme.size())
    throw common::ConfigError("DOCKER_HOST: only unix:///path/to/socket is supported, got '" + docker_host + "'");
  return docker_host.substr(scheme.size());
}

namespace {

void read_control(const common::Config& config, const std::filesystem::path& data_dir, Settings& s) {
  s.api_url = config.get("SHARDLYN_API_URL");
  while (s.api_url.ends_with('/')) s.api_url.pop_back();
  s.register_token = config.get("SHARDLYN_REGISTER_TOKEN");
  s.api_ca_file = config.get("AGENT_API_CA_FILE");
  s.credentials = data_dir / "credentials.json";
  if (s.api_url.empty()) return;
  if (!s.api_url.starts_with("http://") && !s.api_url.starts_with("https://"))
    throw common::ConfigError("SHARDLYN_API_URL: must start with http:// or https://, got '" + s.api_url + "'");
  if (s.register_token.empty() && !std::filesystem::exists(s.credentials))
    throw common::ConfigError("SHARDLYN_REGISTER_TOKEN: needed for the first registration with " + s.api_url + " (no " +
                              s.credentials.string() + " yet)");
  if (!s.api_ca_file.empty() && !std::filesystem::is_regular_file(s.api_ca_file))
    throw common::ConfigError("AGENT_API_CA_FILE: no such file: " + s.api_ca_file);
}

}  // namespace

Settings read(const common::Config& config, const std::filesystem::path& data_dir) {
  Settings s;
  auto driver = config.get("AGENT_DRIVER");
  if (driver == "auto") s.driver = DriverChoice::Auto;
  else if (driver == "process") s.driver = DriverChoice::Process;
  else if (driver == "docker") s.driver = DriverChoice::Docker;
  else throw common::ConfigError("AGENT_DRIVER: must be auto, process or docker, got '" + driver + "'");
  s.docker_socket = docker_socket_path(config.get("DOCKER_HOST"));
  s.instances = data_dir / "instances";
  s.proc_root = config.get("AGENT_PROC_ROOT");
  s.disk_usage_interval = std::chrono::seconds(config.get_int("AGENT_DISK_USAGE_INTERVAL_S", 1, 86400));
  read_control(config, data_dir, s);
  return s;
}

}  // namespace agent
