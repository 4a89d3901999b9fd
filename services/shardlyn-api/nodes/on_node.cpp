#include "nodes/on_node.hpp"

#include <deque>
#include <future>
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
class ContainerLogStream final : public common::ResponseStream, public ChannelSink {
 public:
  // The container (or the refusal), once the agent answered the open.
  std::future<json::object> opened() { return opened_.get_future(); }
  void attach(std::shared_ptr<TunnelChannel> channel) {
    std::lock_guard lock(mutex_);
    channel_ = std::move(channel);
  }

  void on_data(const agentproto::ChannelData& data) override {
    Deliver deliver;
    std::string chunk;
    {
      std::lock_guard lock(mutex_);
      if (!answered_) return answer(data);
      if (data.event != "container output" || data.args.empty() || !data.args[0].is_string()) return;
      buffered_ += std::string(data.args[0].as_string()) + "\n";
      owed_ += agentproto::to_text(agentproto::TunnelFrame{data}).size();
      if (!pending_) return;
      deliver = std::exchange(pending_, nullptr);
      chunk = take();
    }
    deliver(std::move(chunk), false);
  }

  void on_close(const std::string& reason) override {
    Deliver deliver;
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
      if (!answered_) {
        answered_ = true;
        opened_.set_exception(std::make_exception_ptr(
            common::ApiError(502, "the agent closed the log stream: " + reason, "agent_closed")));
      }
      deliver = std::exchange(pending_, nullptr);
    }
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
  // Holding the lock: the first event.
  void answer(const agentproto::ChannelData& data) {
    answered_ = true;
    const json::object* body = !data.args.empty() && data.args[0].is_object() ? &data.args[0].as_object() : nullptr;
    if (data.event == "container" && body) return opened_.set_value(*body);
    std::string code = body && body->contains("code") ? json::value_to<std::string>(body->at("code")) : "";
    std::string message = body && body->contains("message") ? json::value_to<std::string>(body->at("message")) : "";
    opened_.set_exception(std::make_exception_ptr(agent_refusal(code, message)));
  }
  // Holding the lock: what is buffered, with its credit given back.
  std::string take() {
    if (owed_ && channel_) channel_->credit(std::exchange(owed_, 0));
    return std::exchange(buffered_, {});
  }

  std::mutex mutex_;
  std::promise<json::object> opened_;
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

json::object AgentRequests::ask(const std::string& node_id, agentproto::TunnelRequest request,
                                std::chrono::milliseconds timeout) const {
  auto answer = std::make_shared<std::promise<agentproto::TunnelResponse>>();
  auto answered = answer->get_future();
  hub_.request(node_id, std::move(request), timeout,
               [answer](agentproto::TunnelResponse response) { answer->set_value(std::move(response)); });
  auto response = answered.get();  // the hub replies exactly once, at the latest at the timeout
  if (response.body) return std::move(*response.body);
  throw agent_refusal(response.error_code, response.error_message);
}

json::object Inventory::collect(const Caller& caller, const std::string& node_id, const std::string& section) const {
  agents_.online_node(caller, node_id);
  agentproto::TunnelRequest request;
  request.kind = RequestKind::Inventory;
  if (!section.empty()) request.sections = {section};
  return agents_.ask(node_id, std::move(request));
}

json::object ContainerManagement::act(const Caller& caller, const std::string& node_id,
                                      const std::string& container_id, const ContainerCommand& command) const {
  agents_.online_node(caller, node_id);
  if (!agentproto::valid_container_ref(container_id))
    throw common::ApiError::validation("'containerId': a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  agentproto::TunnelRequest request;
  request.kind = command.kind;
  request.container_id = container_id;
  request.timeout_s = command.timeout_s;
  request.signal = command.signal;
  auto wait = AgentRequests::kTimeout + std::chrono::seconds(command.timeout_s.value_or(10));
  return agents_.ask(node_id, std::move(request), wait);
}

json::object ContainerManagement::kill_process(const Caller& caller, const std::string& node_id, std::uint64_t pid,
                                               const std::string& signal) const {
  agents_.online_node(caller, node_id);
  agentproto::TunnelRequest request;
  request.kind = RequestKind::ProcessKill;
  request.pid = pid;
  request.signal = signal;
  request.scope = caller.permissions->contains("nodes.terminal") ? agentproto::ProcessScope::Any
                                                                 : agentproto::ProcessScope::Instances;
  try {
    return agents_.ask(node_id, std::move(request));
  } catch (const common::ApiError& e) {
    if (e.code() != "not_an_instance_process") throw;
    throw common::ApiError(403, std::string(e.what()) + "; killing it needs the nodes.terminal permission", e.code());
  }
}

std::shared_ptr<common::ResponseStream> ContainerManagement::logs(const Caller& caller, const std::string& node_id,
                                                                  const std::string& container_id,
                                                                  std::optional<std::uint64_t> tail,
                                                                  bool follow) const {
  agents_.online_node(caller, node_id);
  if (!agentproto::valid_container_ref(container_id))
    throw common::ApiError::validation("'containerId': a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  auto stream = std::make_shared<ContainerLogStream>();
  auto opened = stream->opened();
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
  if (opened.wait_for(AgentRequests::kTimeout) != std::future_status::ready) {
    stream->cancel();
    throw tunnel_api_error(tunnel_codes::kTimeout, "node " + node_id + " did not open the container's logs in time");
  }
  opened.get();  // throws the refusal
  return stream;
}

}  // namespace shardlyn
