#pragma once
// The tunnel's requests about the node itself, answered once: the inventory, container actions
// through the docker driver's engine, and process kills. Every refusal is a code and a message
// the API turns into its answer (no_docker, container_not_found, instance_container,
// process_not_found, not_an_instance_process, protected_process, bad_signal, engine_failed).
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "agentproto/messages.hpp"
#include "instances/reconciler.hpp"
#include "node/inventory.hpp"
#include "runtime/container_engine.hpp"

namespace agent {

class RequestRefused : public std::runtime_error {
 public:
  RequestRefused(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Requests are answered on two workers of their own, so a container stop that waits out its
// grace period never holds up the tunnel's reader (or the other channels).
class NodeRequests {
 public:
  using Reply = std::function<void(const agentproto::TunnelResponse&)>;
  NodeRequests(InventorySources inventory, Reconciler& reconciler);
  ~NodeRequests();  // waits for the requests in progress; the queued ones are dropped
  NodeRequests(const NodeRequests&) = delete;
  NodeRequests& operator=(const NodeRequests&) = delete;
  // Queues the request; `reply` is called once from a worker (at once with "busy" when too
  // many wait).
  void submit(agentproto::TunnelRequest request, Reply reply);
  agentproto::TunnelResponse answer(const agentproto::TunnelRequest& request);
  // The container of a container_logs channel and its output; throws RequestRefused.
  std::pair<ContainerInfo, std::unique_ptr<Console>> container_logs(const agentproto::OpenChannel& open);

 private:
  boost::json::object inventory(const agentproto::TunnelRequest& request);
  boost::json::object act_on_container(const agentproto::TunnelRequest& request);
  boost::json::object kill_process(const agentproto::TunnelRequest& request);
  std::map<int, std::string> instance_mains();  // pid -> instance id of each main process
  ContainerEngine& engine();
  ContainerInfo container(const std::string& ref);

  void work(std::stop_token stop);

  InventorySources inventory_;
  Reconciler& reconciler_;
  std::mutex mutex_;
  std::condition_variable_any queued_;
  std::deque<std::pair<agentproto::TunnelRequest, Reply>> queue_;
  std::vector<std::jthread> workers_;
};

// A container as the API shows it.
boost::json::object container_json(const ContainerInfo& container);

}  // namespace agent
