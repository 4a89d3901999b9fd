#include "settings.hpp"

#include "common/error.hpp"

namespace agent {

std::vector<common::OptionSpec> options() {
  return {
      {"AGENT_DRIVER", "auto", "runtime driver: auto (docker when DOCKER_HOST answers, else process), process, docker"},
      {"DOCKER_HOST", "unix:///var/run/docker.sock", "Docker Engine API socket (unix:// only)"},
      {"AGENT_PROC_ROOT", "/proc", "where the kernel's process and system files are read (node metrics)"},
  };
}

std::string docker_socket_path(const std::string& docker_host) {
  constexpr std::string_view scheme = "unix://";
  if (!docker_host.starts_with(scheme) || docker_host.size() == scheme.size())
    throw common::ConfigError("DOCKER_HOST: only unix:///path/to/socket is supported, got '" + docker_host + "'");
  return docker_host.substr(scheme.size());
}

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
  return s;
}

}  // namespace agent
