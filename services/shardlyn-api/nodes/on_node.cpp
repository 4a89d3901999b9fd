#include "nodes/on_node.hpp"

#include <mutex>
#include <string_view>

#include <boost/json.hpp>

#include "agentproto/json.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::RequestKind;

namespace {

struct Refusal {
  std::string_view code;
  int status;
};

// What the agent refuses (services/shardlyn-agent/node/node_requests.hpp) and how it is answered.
constexpr Refusal kAgentRefusals[] = {
    {"no_docker", 404},          {"container_not_found", 404},      {"process_not_found", 404},
    {"instance_container", 409}, {"protected_process", 409},        {"not_an_instance_process", 403},
    {"bad_signal", 400},         {"unknown_section", 400},          {"busy", 503},
};

constexpr std::uint64_t kLogWindow = 256 * 1024;  // a log stream's credit: what may wait unsent

// A container's log channel as an HTTP body: lines as they come, credit given back as the
// client takes them, so a slow client holds back only its own stream. The first event says
// whether the agent found the container ("container") or refused ("error").
class ContainerLogStream final : public common::ResponseStream,
                                 public ChannelSink,
                                 public std::enable_shared_from_this<ContainerLogStream> {
 public:
  explicit ContainerLogStream(LogsOpened opened) : opened_(std::move(opened)) {}
  void attach(std::shared_ptr<TunnelChannel> channel) {
    std::lock_guard lock(mutex_);
    channel_ = std::move(channel);
  }

  void on_data(const agentproto::ChannelData& data) override {
    Deliver deliver;
    std::string chunk;
    {
      std::unique_lock lock(mutex_);
      owed_ += agentproto::to_text(agentproto::TunnelFrame{data}).size();
      if (!answered_) {
        answered_ = true;
        lock.unlock();
        return answer(data);
      }
      if (data.event != "container output" || data.args.empty() || !data.args[0].is_string()) return;
      buffered_ += std::string(data.args[0].as_string()) + "\n";
      if (!pending_) return;
      deliver = std::exchange(pending_, nullptr);
      chunk = take();
    }
    deliver(std::move(chunk), false);
  }

  void on_close(const std::string& reason) override {
    Deliver deliver;
    bool refused = false;
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
      channel_.reset();  // the channel holds this sink: the cycle ends with the channel
      refused = !std::exchange(answered_, true);
      deliver = std::exchange(pending_, nullptr);
    }
    if (refused)
      opened_([reason]() -> std::shared_ptr<common::ResponseStream> {
        throw common::ApiError(502, "the agent closed the log stream: " + reason, "agent_closed");
      });
    if (deliver) deliver({}, true);
  }

  void next(Deliver deliver) override {
    std::unique_lock lock(mutex_);
    if (buffered_.empty() && !ended_) {
      pending_ = std::move(deliver);
      return;
    }
    bool last = buffered_.empty();
    auto chunk = take();
    lock.unlock();
    deliver(std::move(chunk), last);
  }

  void cancel() override {
    std::shared_ptr<TunnelChannel> channel;
    {
      std::lock_guard lock(mutex_);
      channel = channel_;
    }
    if (channel) channel->close("client gone");  // on_close delivers what waits
  }

 private:
  // The first event: the container found, or the agent's refusal.
  void answer(const agentproto::ChannelData& data) {
    const json::object* body = !data.args.empty() && data.args[0].is_object() ? &data.args[0].as_object() : nullptr;
    if (data.event == "container" && body) {
      opened_([self = shared_from_this()]() -> std::shared_ptr<common::ResponseStream> { return self; });
      return;
    }
    std::string code = body && body->contains("code") ? json::value_to<std::string>(body->at("code")) : "";
    std::string message = body && body->contains("message") ? json::value_to<std::string>(body->at("message")) : "";
    opened_([code, message]() -> std::shared_ptr<common::ResponseStream> { throw agent_refusal(code, message); });
  }
  // Holding the lock: what is buffered, with its credit given back.
  std::string take() {
    if (owed_ && channel_) channel_->credit(std::exchange(owed_, 0));
    return std::exchange(buffered_, {});
  }

  std::mutex mutex_;
  LogsOpened opened_;
  std::shared_ptr<TunnelChannel> channel_;
  bool answered_ = false, ended_ = false;
  std::string buffered_;
  std::uint64_t owed_ = 0;
  Deliver pending_;
};

}  // namespace

common::ApiError agent_refusal(const std::string& code, const std::string& message) {
  for (const auto& r : kAgentRefusals)
    if (r.code == code) return {r.status, message, code};
  return tunnel_api_error(code, message);
}

NodeView AgentRequests::online_node(const Caller& caller, const std::string& node_id) const {
  auto node = nodes_.find(caller, node_id);
  if (!hub_.connected(node_id))
    throw tunnel_api_error(tunnel_codes::kNodeOffline, "node " + node_id + " has no tunnel from its agent (node status: " +
                                                           node.status + ")");
  return node;
}

void AgentRequests::ask(const std::string& node_id, agentproto::TunnelRequest request, std::chrono::milliseconds timeout,
                        Answer answer) const {
  hub_.request(node_id, std::move(request), timeout, std::move(answer));  // answered exactly once
}

json::object AgentRequests::body_of(agentproto::TunnelResponse response) {
  if (response.body) return std::move(*response.body);
  throw agent_refusal(response.error_code, response.error_message);
}

void Inventory::collect(const Caller& caller, const std::string& node_id, const std::string& section,
                        AgentRequests::Answer answer) const {
  agents_.online_node(caller, node_id);
  agentproto::TunnelRequest request;
  request.kind = RequestKind::Inventory;
  if (!section.empty()) request.sections = {section};
  agents_.ask(node_id, std::move(request), AgentRequests::kTimeout, std::move(answer));
}

void ContainerManagement::act(const Caller& caller, const std::string& node_id, const std::string& container_id,
                              const ContainerCommand& command, AgentRequests::Answer answer) const {
  agents_.online_node(caller, node_id);
  if (!agentproto::valid_container_ref(container_id))
    throw common::ApiError::validation("'containerId': a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  agentproto::TunnelRequest request;
  request.kind = command.kind;
  request.container_id = container_id;
  request.timeout_s = command.timeout_s;
  request.signal = command.signal;
  auto wait = AgentRequests::kTimeout + std::chrono::seconds(command.timeout_s.value_or(10));
  agents_.ask(node_id, std::move(request), wait, std::move(answer));
}

void ContainerManagement::kill_process(const Caller& caller, const std::string& node_id, std::uint64_t pid,
                                       const std::string& signal, AgentRequests::Answer answer) const {
  agents_.online_node(caller, node_id);
  agentproto::TunnelRequest request;
  request.kind = RequestKind::ProcessKill;
  request.pid = pid;
  request.signal = signal;
  request.scope = caller.permissions->contains("nodes.terminal") ? agentproto::ProcessScope::Any
                                                                 : agentproto::ProcessScope::Instances;
  agents_.ask(node_id, std::move(request), AgentRequests::kTimeout,
              [answer = std::move(answer)](agentproto::TunnelResponse response) {
                if (response.error_code == "not_an_instance_process")
                  response.error_message += "; killing it needs the nodes.terminal permission";
                answer(std::move(response));
              });
}

void ContainerManagement::logs(const Caller& caller, const std::string& node_id, const std::string& container_id,
                               std::optional<std::uint64_t> tail, bool follow, LogsOpened opened) const {
  agents_.online_node(caller, node_id);
  if (!agentproto::valid_container_ref(container_id))
    throw common::ApiError::validation("'containerId': a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  auto stream = std::make_shared<ContainerLogStream>(std::move(opened));
  agentproto::OpenChannel open;
  open.kind = agentproto::ChannelKind::ContainerLogs;
  open.container_id = container_id;
  open.tail = tail;
  open.follow = follow;
  open.window_bytes = kLogWindow;
  try {
    stream->attach(agents_.hub().open_channel(node_id, std::move(open), stream));
  } catch (const TunnelError& e) {
    throw tunnel_api_error(e.code(), e.what());
  }
}

}  // namespace shardlyn
