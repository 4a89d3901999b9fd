#include "runtime/drivers.hpp"

#include <fstream>

#include "common/error.hpp"
#include "common/log.hpp"
#include "runtime/docker_driver.hpp"
#include "runtime/process_driver.hpp"

namespace agent {

std::unique_ptr<RuntimeDriver> open_driver(const Settings& settings, const std::filesystem::path& data_dir) {
  if (settings.driver != DriverChoice::Process) {
    DockerApi api(settings.docker_socket);
    std::string why;
    if (api.ping(why))
      return std::make_unique<DockerDriver>(settings.docker_socket, settings.instances, data_dir / "stdin",
                                            std::filesystem::read_symlink("/proc/self/exe"));
    if (settings.driver == DriverChoice::Docker)
      throw common::ConfigError("AGENT_DRIVER=docker, but DOCKER_HOST unix://" + settings.docker_socket +
                                " does not answer: " + why);
    common::log::info("docker not available, using the process driver", {{"docker_host", settings.docker_socket}, {"reason", why}});
  }
  return std::make_unique<ProcessDriver>(settings.instances, data_dir / "supervisors",
                                         SupervisorCommand{std::filesystem::read_symlink("/proc/self/exe")});
}

Runtime::Runtime(std::unique_ptr<RuntimeDriver> driver) : driver_(std::move(driver)) {
  for (auto& handle : driver_->recover()) {
    auto observed = driver_->inspect(handle);
    common::log::info("instance found again", {{"instance", handle.instance_id},
                                               {"driver", driver_->name()},
                                               {"state", to_string(observed.state)}});
    recovered_.push_back(std::move(handle));
  }
  common::log::info("runtime driver ready", {{"driver", driver_->name()}, {"instances", recovered_.size()}});
}

void export_instance_gauges(common::metrics::Registry& registry, RuntimeDriver& driver,
                            std::function<std::vector<InstanceHandle>()> instances) {
  registry.gauge("shardlyn_agent_runtime_driver", "The runtime driver in use (1 for the active one)", {"driver"})
      .with({driver.name()})
      .set(1);
  registry.gauge_callback("shardlyn_agent_instances_running", "Instances whose workload is running on this node",
                          [&driver, instances = std::move(instances)] {
                            double n = 0;
                            for (const auto& h : instances()) n += driver.inspect(h).state == RunState::Running;
                            return n;
                          });
}

}  // namespace agent
