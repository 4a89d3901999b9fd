#pragma once
// The engine's containers through the Docker Engine API (the docker driver's engine()).
#include <boost/json/object.hpp>

#include "runtime/container_engine.hpp"
#include "runtime/docker_api.hpp"

namespace agent {

class DockerContainers : public ContainerEngine {
 public:
  explicit DockerContainers(const DockerApi& api) : api_(api) {}
  std::vector<ContainerInfo> list() override;
  std::optional<ContainerInfo> find(const std::string& ref) override;
  ContainerInfo act(const ContainerInfo& container, ContainerAction action, std::optional<std::chrono::seconds> timeout,
                    int signal) override;
  std::unique_ptr<Console> logs(const ContainerInfo& container, std::optional<std::uint64_t> tail, bool follow) override;

 private:
  const DockerApi& api_;
};

// One container of GET /containers/json (Names) or GET /containers/{id}/json (Name) as a record.
ContainerInfo container_info(const boost::json::object& engine_container);

}  // namespace agent
