#pragma once
// The containers of the node's container engine, as the node's Container Management routes
// act on them through the docker driver (RuntimeDriver::engine(); none on a process node).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/driver.hpp"

namespace agent {

struct ContainerInfo {
  std::string id, name, image;
  std::string state;   // the engine's: created, running, paused, exited ...
  std::string status;  // the engine's words ("Up 3 minutes")
  std::optional<std::string> instance_id;  // set for the container of a Shardlyn instance
};

enum class ContainerAction { Start, Stop, Restart, Kill };

class ContainerEngine {
 public:
  virtual ~ContainerEngine() = default;
  // Every container of the engine, running or not.
  virtual std::vector<ContainerInfo> list() = 0;
  // The container an id, id prefix or name names; nullopt when the engine has none.
  virtual std::optional<ContainerInfo> find(const std::string& ref) = 0;
  // Acts and returns the container as it is afterwards. `timeout` (stop, restart): the engine's
  // own grace before SIGKILL; `signal` (kill). Throws RuntimeError when the engine refuses.
  virtual ContainerInfo act(const ContainerInfo& container, ContainerAction action,
                            std::optional<std::chrono::seconds> timeout, int signal) = 0;
  // The container's output: its last `tail` lines (all when absent), then what follows while
  // `follow`; numbered from 1.
  virtual std::unique_ptr<Console> logs(const ContainerInfo& container, std::optional<std::uint64_t> tail,
                                        bool follow) = 0;
};

}  // namespace agent
