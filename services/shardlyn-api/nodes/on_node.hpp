#pragma once
// What the API does on a node through its agent's tunnel (decision 0033): the Inventory, the
// Container Management routes and process kills, each a request the agent answers once, and
// a container's logs as a channel. The node is looked up first (another organisation's: 404),
// then its tunnel (none: 409 node_offline); the agent's refusals become the statuses of
// kAgentRefusals.
#include <chrono>
#include <cstdint>
#include <functional>
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

// Asks a node's agent through its tunnel. Nothing waits for the answer: it comes to `answer`
// (from the tunnel's or the hub's thread), at the latest when the request's timeout passed.
class AgentRequests {
 public:
  static constexpr std::chrono::seconds kTimeout{15};
  using Answer = std::function<void(agentproto::TunnelResponse response)>;
  AgentRequests(Nodes& nodes, TunnelHub& hub) : nodes_(nodes), hub_(hub) {}
  // The caller's node (404 when not theirs), whose agent holds its tunnel (else 409).
  NodeView online_node(const Caller& caller, const std::string& node_id) const;
  void ask(const std::string& node_id, agentproto::TunnelRequest request, std::chrono::milliseconds timeout,
           Answer answer) const;
  // The answer's body, or throws the ApiError its refusal or the hub's failure stands for.
  static boost::json::object body_of(agentproto::TunnelResponse response);
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
  void collect(const Caller& caller, const std::string& node_id, const std::string& section,
               AgentRequests::Answer answer) const;

 private:
  AgentRequests& agents_;
};

struct ContainerCommand {
  agentproto::RequestKind kind = agentproto::RequestKind::ContainerStart;
  std::optional<std::uint32_t> timeout_s;  // stop, restart
  std::string signal;                      // kill
};

// A container's log stream once the agent confirmed the container (or the refusal, thrown).
using LogsOpened = std::function<void(std::function<std::shared_ptr<common::ResponseStream>()> opened)>;

// Container Management (on Node): the engine's containers through the docker driver, and
// kills of processes on the node.
class ContainerManagement {
 public:
  explicit ContainerManagement(AgentRequests& agents) : agents_(agents) {}
  // The answer's body is the container as it is afterwards.
  void act(const Caller& caller, const std::string& node_id, const std::string& container_id,
           const ContainerCommand& command, AgentRequests::Answer answer) const;
  // A process of this node's instances; any process when the caller holds nodes.terminal (the
  // agent checks the pid against what it runs: the API only widens the scope).
  void kill_process(const Caller& caller, const std::string& node_id, std::uint64_t pid, const std::string& signal,
                    AgentRequests::Answer answer) const;
  // The container's output as text lines: the last `tail` (all when absent), then live while
  // `follow`; `opened` hears once the agent confirmed the container or refused.
  void logs(const Caller& caller, const std::string& node_id, const std::string& container_id,
            std::optional<std::uint64_t> tail, bool follow, LogsOpened opened) const;

 private:
  AgentRequests& agents_;
};

}  // namespace shardlyn
