#pragma once
// What the API does on a node through its agent's tunnel (decision 0033): the Inventory, the
// Container Management routes and process kills, each a request the agent answers once, and
// a container's logs as a channel. The node is looked up first (another organisation's: 404),
// then its tunnel (none: 409 node_offline); the agent's refusals become the statuses of
// kAgentRefusals.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "agentproto/messages.hpp"
#include "common/http.hpp"
#include "http/access.hpp"
#include "nodes/nodes.hpp"
#include "tunnel/hub.hpp"

namespace shardlyn {

// Asks a node's agent and waits for its answer (callers run on the worker pool): the response
// body, or the ApiError its refusal or the hub's failure stands for.
class AgentRequests {
 public:
  static constexpr std::chrono::seconds kTimeout{15};
  AgentRequests(Nodes& nodes, TunnelHub& hub) : nodes_(nodes), hub_(hub) {}
  // The caller's node (404 when not theirs), whose agent holds its tunnel (else 409).
  NodeView online_node(const Caller& caller, const std::string& node_id) const;
  boost::json::object ask(const std::string& node_id, agentproto::TunnelRequest request,
                          std::chrono::milliseconds timeout = kTimeout) const;
  TunnelHub& hub() const { return hub_; }

 private:
  Nodes& nodes_;
  TunnelHub& hub_;
};

// An agent's refusal code -> the status the route answers (anything else: 502).
common::ApiError agent_refusal(const std::string& code, const std::string& message);

// GET /v1/nodes/{id}/inventory[/<section>]: collected by the agent on request.
class Inventory {
 public:
  explicit Inventory(AgentRequests& agents) : agents_(agents) {}
  // Every section when `section` is empty.
  boost::json::object collect(const Caller& caller, const std::string& node_id, const std::string& section) const;

 private:
  AgentRequests& agents_;
};

struct ContainerCommand {
  agentproto::RequestKind kind = agentproto::RequestKind::ContainerStart;
  std::optional<std::uint32_t> timeout_s;  // stop, restart
  std::string signal;                      // kill
};

// Container Management (on Node): the engine's containers through the docker driver, and
// kills of processes on the node.
class ContainerManagement {
 public:
  explicit ContainerManagement(AgentRequests& agents) : agents_(agents) {}
  // The container as it is afterwards.
  boost::json::object act(const Caller& caller, const std::string& node_id, const std::string& container_id,
                          const ContainerCommand& command) const;
  // A process of this node's instances; any process when the caller holds nodes.terminal (the
  // agent checks the pid against what it runs: the API only widens the scope).
  boost::json::object kill_process(const Caller& caller, const std::string& node_id, std::uint64_t pid,
                                   const std::string& signal) const;
  // The container's output as text lines: the last `tail` (all when absent), then live while
  // `follow`. Waits for the agent to confirm the container before the stream starts.
  std::shared_ptr<common::ResponseStream> logs(const Caller& caller, const std::string& node_id,
                                               const std::string& container_id, std::optional<std::uint64_t> tail,
                                               bool follow) const;

 private:
  AgentRequests& agents_;
};

}  // namespace shardlyn
