#pragma once
// The `docker` driver: one container per instance through the Docker Engine API, labelled so
// the agent finds its containers again after a restart. Hardened by default: no new
// privileges, every capability dropped, a read-only root with a tmpfs /tmp unless the
// workload asks otherwise; the instance root is mounted at /home/container.
#include <filesystem>
#include <mutex>
#include <set>

#include <boost/json/object.hpp>

#include "runtime/docker_api.hpp"
#include "runtime/docker_containers.hpp"
#include "runtime/driver.hpp"

namespace agent {

inline constexpr const char* kInstanceLabel = "io.shardlyn.instance";

// The output lines of an engine log stream, numbered from 1 at its first line, after `since_seq`.
std::unique_ptr<Console> log_console(DockerStream stream, std::uint64_t since_seq);

// The body of POST /containers/create for a workload (exposed for the unit tests).
boost::json::object container_spec(const Workload& workload, const std::filesystem::path& root);

class DockerDriver : public RuntimeDriver {
 public:
  // Instance roots in `instances`/<id>/; the stdin holders (runtime/stdin_holder.hpp), started
  // from `agent_binary`, keep their sockets in `holders`/<container id>/.
  DockerDriver(std::string socket_path, std::filesystem::path instances, std::filesystem::path holders,
               std::filesystem::path agent_binary);

  const char* name() const override { return "docker"; }
  InstanceHandle start(const Workload& workload) override;
  std::vector<InstanceHandle> recover() override;
  Observed inspect(const InstanceHandle& instance) override;
  void send_input(const InstanceHandle& instance, const std::string& line) override;
  std::optional<ExitStatus> stop(const InstanceHandle& instance, const StopPolicy& policy,
                                 std::chrono::milliseconds deadline, const StopProgress& progress = {}) override;
  void kill(const InstanceHandle& instance, int signal) override;
  std::vector<OutputLine> logs(const InstanceHandle& instance, std::size_t tail) override;
  std::unique_ptr<Console> attach(const InstanceHandle& instance, std::uint64_t since_seq) override;
  Stats stats(const InstanceHandle& instance) override;
  void remove(const InstanceHandle& instance) override;
  ContainerEngine* engine() override;

 private:
  boost::json::object inspect_json(const InstanceHandle& instance);
  bool wait_not_running(const InstanceHandle& instance, std::chrono::steady_clock::time_point until);
  void post(const std::string& target, const char* what,
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // A connection to the container's stdin holder, started when there is none.
  Fd stdin_holder(const InstanceHandle& instance);
  std::string socket_path_;
  DockerApi api_;
  DockerContainers containers_;
  std::filesystem::path instances_, holders_, agent_binary_;
  std::mutex mutex_;
  std::set<std::string> stopping_;  // containers the agent asked to stop or kill
};

}  // namespace agent
