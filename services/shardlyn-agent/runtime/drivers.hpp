#pragma once
// Choosing the runtime driver (AGENT_DRIVER) and finding the instances it already runs.
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "common/metrics.hpp"
#include "runtime/driver.hpp"
#include "settings.hpp"

namespace agent {

// auto: docker when DOCKER_HOST answers its ping, else process. A forced docker whose
// socket does not answer is a configuration error (common::ConfigError).
std::unique_ptr<RuntimeDriver> open_driver(const Settings& settings, const std::filesystem::path& data_dir);

// The agent's driver and the instances it found running at start (reattached, never restarted).
class Runtime {
 public:
  explicit Runtime(std::unique_ptr<RuntimeDriver> driver);
  RuntimeDriver& driver() { return *driver_; }
  const std::vector<InstanceHandle>& recovered() const { return recovered_; }

 private:
  std::unique_ptr<RuntimeDriver> driver_;
  std::vector<InstanceHandle> recovered_;
};

// `instances`: what the agent runs now (found at start and started since).
void export_instance_gauges(common::metrics::Registry& registry, RuntimeDriver& driver,
                            std::function<std::vector<InstanceHandle>()> instances);

}  // namespace agent
