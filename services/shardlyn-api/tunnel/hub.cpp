#include "tunnel/hub.hpp"

#include <atomic>
#include <utility>

#include "agentproto/json.hpp"
#include "common/log.hpp"
#include "store/time.hpp"

namespace shardlyn {

using agentproto::TunnelFrame;
using agentproto::TunnelResponse;

common::ApiError tunnel_api_error(std::string_view code, const std::string& message) {
  int status = 502;
  if (code == tunnel_codes::kNodeOffline) status = 409;
  else if (code == tunnel_codes::kTimeout) status = 504;
  else if (code == tunnel_codes::kTunnelClosed || code == tunnel_codes::kBusy) status = 503;
  return {status, message, std::string(code)};
}

// One agent's tunnel: its connection, the requests waiting for its answer, its open channels.
struct TunnelHub::Link {
  AgentCaller agent;
  std::string remote_ip;
  std::int64_t connected_at = 0;
  std::shared_ptr<common::WebSocketConnection> connection;
  std::map<std::string, Reply> pending;  // by request id
  std::map<std::uint64_t, std::shared_ptr<Channel>> channels;
  std::uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0, requests = 0, channels_opened = 0;
  bool gone = false;
};

class TunnelHub::Channel final : public TunnelChannel {
 public:
  Channel(TunnelHub& hub, std::shared_ptr<Link> link, std::uint64_t id, std::shared_ptr<ChannelSink> sink)
      : hub_(hub), link_(link), node_id_(link->agent.node_id), id_(id), sink_(std::move(sink)) {}

  std::uint64_t id() const override { return id_; }
  const std::string& node_id() const override { return node_id_; }
  bool closed() const override { return closed_; }

  bool send(agentproto::ChannelData data) override {
    auto link = link_.lock();
    if (closed_ || !link) return false;
    data.channel = id_;
    return hub_.send(link, TunnelFrame{std::move(data)});
  }

  void credit(std::uint64_t bytes) override {
    if (auto link = link_.lock(); link && !closed_ && bytes > 0)
      hub_.send(link, TunnelFrame{agentproto::ChannelCredit{id_, bytes}});
  }

  void close(const std::string& reason) override {
    if (closed_.exchange(true)) return;
    if (auto link = link_.lock()) {
      {
        std::lock_guard lock(hub_.mutex_);
        link->channels.erase(id_);
      }
      hub_.send(link, TunnelFrame{agentproto::CloseChannel{id_, reason}});
    }
    sink_->on_close(reason);
  }

  // From the tunnel: data for the sink, unless the channel closed meanwhile.
  void deliver(const agentproto::ChannelData& data) {
    if (!closed_) sink_->on_data(data);
  }
  // The agent or the tunnel ended the channel (already out of the link's table).
  void ended(const std::string& reason) {
    if (!closed_.exchange(true)) sink_->on_close(reason);
  }

 private:
  TunnelHub& hub_;
  std::weak_ptr<Link> link_;
  std::string node_id_;
  std::uint64_t id_;
  std::shared_ptr<ChannelSink> sink_;
  std::atomic<bool> closed_{false};
};

// The WebSocket handler of one agent's tunnel.
class TunnelHub::AgentSocket final : public common::WebSocketHandler {
 public:
  AgentSocket(TunnelHub& hub, std::shared_ptr<Link> link) : hub_(hub), link_(std::move(link)) {}

  void on_open(std::shared_ptr<common::WebSocketConnection> connection) override {
    std::shared_ptr<Link> replaced;
    {
      std::unique_lock lock(hub_.mutex_);
      link_->connection = connection;
      if (hub_.stopped_) {  // the API is draining: the agent dials again later
        link_->gone = true;
        lock.unlock();
        connection->close(common::ws_close::going_away, "the API is shutting down");
        return;
      }
      link_->connected_at = store::unix_now();
      auto& slot = hub_.links_[link_->agent.node_id];
      replaced = std::exchange(slot, link_);
      ++hub_.stats_.connections;
      if (replaced) ++hub_.stats_.replaced;
    }
    if (replaced) {
      common::log::info("agent tunnel replaced", {{"node", link_->agent.node_id}});
      replaced->connection->close(common::ws_close::normal, "replaced by a newer tunnel of this node");
      hub_.disconnected(replaced);
    }
    common::log::info("agent tunnel connected", {{"node", link_->agent.node_id}, {"ip", link_->remote_ip}});
    hub_.notify(link_->agent.node_id, true);
  }

  void on_message(std::string_view message, bool) override { hub_.received(link_, message); }

  void on_close(std::uint16_t code, std::string_view reason) override {
    common::log::info("agent tunnel closed",
                      {{"node", link_->agent.node_id}, {"code", code}, {"reason", std::string(reason)}});
    hub_.disconnected(link_);
  }

 private:
  TunnelHub& hub_;
  std::shared_ptr<Link> link_;
};

TunnelHub::TunnelHub(TunnelOptions options)
    : options_(options), timer_([this](std::stop_token s) { run_timer(s); }) {
  stats_.since = store::unix_now();
}

TunnelHub::~TunnelHub() { stop(); }

bool TunnelHub::connected(const std::string& node_id) const {
  std::lock_guard lock(mutex_);
  return links_.contains(node_id);
}

void TunnelHub::listen(TunnelListener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void TunnelHub::notify(const std::string& node_id, bool connected) {
  std::vector<TunnelListener> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  for (const auto& l : listeners) l(node_id, connected);
}

std::shared_ptr<common::WebSocketHandler> TunnelHub::accept(const AgentCaller& agent, std::string remote_ip) {
  auto link = std::make_shared<Link>();
  link->agent = agent;
  link->remote_ip = std::move(remote_ip);
  return std::make_shared<AgentSocket>(*this, std::move(link));
}

void TunnelHub::request(const std::string& node_id, agentproto::TunnelRequest request,
                        std::chrono::milliseconds timeout, Reply reply) {
  std::shared_ptr<Link> link;
  std::string refusal_code, refusal;
  {
    std::lock_guard lock(mutex_);
    ++stats_.requests;
    auto it = links_.find(node_id);
    if (stopped_ || it == links_.end()) {
      ++stats_.refused_offline;
      refusal_code = tunnel_codes::kNodeOffline;
      refusal = "node " + node_id + " has no agent tunnel connected (node_offline)";
    } else if (it->second->pending.size() >= options_.max_pending_per_node) {
      refusal_code = tunnel_codes::kBusy;
      refusal = "node " + node_id + " has too many requests waiting (tunnel_busy)";
    } else {
      link = it->second;
      request.id = "rq-" + std::to_string(next_request_++);
      link->pending.emplace(request.id, std::move(reply));
      ++link->requests;
      deadlines_.emplace(std::chrono::steady_clock::now() + timeout, std::make_pair(node_id, request.id));
    }
  }
  if (!link) {
    reply(TunnelResponse{request.id, std::nullopt, refusal_code, refusal});
    return;
  }
  wake_.notify_all();
  send(link, TunnelFrame{std::move(request)});  // a failed send ends the link: tunnel_closed
}

std::shared_ptr<TunnelChannel> TunnelHub::open_channel(const std::string& node_id, agentproto::OpenChannel open,
                                                       std::shared_ptr<ChannelSink> sink) {
  std::shared_ptr<Link> link;
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex_);
    auto it = links_.find(node_id);
    if (stopped_ || it == links_.end())
      throw TunnelError(std::string(tunnel_codes::kNodeOffline), "node " + node_id + " has no agent tunnel connected");
    link = it->second;
    open.channel = next_channel_++;
    channel = std::make_shared<Channel>(*this, link, open.channel, std::move(sink));
    link->channels.emplace(open.channel, channel);
    ++link->channels_opened;
    ++stats_.channels_opened;
  }
  send(link, TunnelFrame{std::move(open)});
  return channel;
}

bool TunnelHub::send(const std::shared_ptr<Link>& link, const TunnelFrame& frame) {
  auto text = agentproto::to_text(frame);
  {
    std::lock_guard lock(mutex_);
    if (link->gone || !link->connection) return false;
    ++link->frames_out;
    link->bytes_out += text.size();
    ++stats_.frames_out;
    stats_.bytes_out += text.size();
  }
  return link->connection->send(std::move(text));
}

void TunnelHub::received(const std::shared_ptr<Link>& link, std::string_view text) {
  {
    std::lock_guard lock(mutex_);
    ++link->frames_in;
    link->bytes_in += text.size();
    ++stats_.frames_in;
    stats_.bytes_in += text.size();
  }
  TunnelFrame frame;
  try {
    frame = agentproto::from_text<TunnelFrame>(text, "frame");
  } catch (const agentproto::ProtocolError& e) {
    // Not answered: an error frame back could start an endless exchange of refusals.
    std::lock_guard lock(mutex_);
    ++stats_.bad_frames;
    common::log::warn("bad tunnel frame", {{"node", link->agent.node_id}, {"error", e.what()}});
    return;
  }
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, TunnelResponse>) respond(link, f);
        else if constexpr (std::is_same_v<T, agentproto::ChannelData> || std::is_same_v<T, agentproto::CloseChannel>)
          channel_frame(link, f.channel, frame);
        else {
          std::lock_guard lock(mutex_);
          ++stats_.bad_frames;
          common::log::warn("unexpected tunnel frame from an agent", {{"node", link->agent.node_id}});
        }
      },
      frame);
}

void TunnelHub::respond(const std::shared_ptr<Link>& link, TunnelResponse response) {
  Reply reply;
  {
    std::lock_guard lock(mutex_);
    auto it = link->pending.find(response.id);
    if (it == link->pending.end()) return;  // answered after its timeout: already failed
    reply = std::move(it->second);
    link->pending.erase(it);
    ++stats_.responses;
  }
  reply(std::move(response));
}

void TunnelHub::channel_frame(const std::shared_ptr<Link>& link, std::uint64_t id, const TunnelFrame& frame) {
  std::shared_ptr<Channel> channel;
  bool closing = std::holds_alternative<agentproto::CloseChannel>(frame);
  {
    std::lock_guard lock(mutex_);
    auto it = link->channels.find(id);
    if (it != link->channels.end()) {
      channel = it->second;
      if (closing) link->channels.erase(it);
    }
  }
  if (!channel) {
    if (const auto* data = std::get_if<agentproto::ChannelData>(&frame); data && data->event == "error")
      common::log::warn("agent refused a tunnel frame",
                        {{"node", link->agent.node_id}, {"channel", id}, {"detail", agentproto::write_value(data->args)}});
    return;
  }
  if (closing) channel->ended(std::get<agentproto::CloseChannel>(frame).reason);
  else channel->deliver(std::get<agentproto::ChannelData>(frame));
}

void TunnelHub::disconnected(const std::shared_ptr<Link>& link) {
  std::map<std::string, Reply> pending;
  std::map<std::uint64_t, std::shared_ptr<Channel>> channels;
  bool current = false;
  {
    std::lock_guard lock(mutex_);
    if (link->gone) return;
    link->gone = true;
    if (auto it = links_.find(link->agent.node_id); it != links_.end() && it->second == link) {
      links_.erase(it);
      current = true;
    }
    ++stats_.disconnections;
    pending.swap(link->pending);
    channels.swap(link->channels);
  }
  std::string why = "the agent tunnel of node " + link->agent.node_id + " closed (tunnel_closed)";
  for (auto& [id, reply] : pending) reply(TunnelResponse{id, std::nullopt, std::string(tunnel_codes::kTunnelClosed), why});
  for (auto& [id, channel] : channels) channel->ended(std::string(tunnel_codes::kTunnelClosed) + ": " + why);
  if (current) notify(link->agent.node_id, false);
}

void TunnelHub::run_timer(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (deadlines_.empty()) wake_.wait(lock, stop, [&] { return !deadlines_.empty(); });
    else wake_.wait_until(lock, stop, deadlines_.begin()->first, [] { return false; });
    std::vector<std::pair<std::string, Reply>> expired;
    auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto [node_id, request_id] = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto link = links_.find(node_id);
      if (link == links_.end()) continue;  // the tunnel went: its requests were failed then
      auto it = link->second->pending.find(request_id);
      if (it == link->second->pending.end()) continue;  // answered
      expired.emplace_back(request_id, std::move(it->second));
      link->second->pending.erase(it);
      ++stats_.timeouts;
    }
    if (expired.empty()) continue;
    lock.unlock();
    for (auto& [id, reply] : expired)
      reply(TunnelResponse{id, std::nullopt, std::string(tunnel_codes::kTimeout),
                           "the agent did not answer in time (agent_timeout)"});
    lock.lock();
  }
}

TunnelStats TunnelHub::stats() const {
  std::lock_guard lock(mutex_);
  TunnelStats out = stats_;
  out.agents = links_.size();
  for (const auto& [node, link] : links_) {
    out.channels += link->channels.size();
    out.pending_requests += link->pending.size();
  }
  return out;
}

std::vector<AgentLink> TunnelHub::agents() const {
  std::lock_guard lock(mutex_);
  std::vector<AgentLink> out;
  for (const auto& [node, l] : links_)
    out.push_back({.node_id = l->agent.node_id,
                   .org_id = l->agent.org_id,
                   .connected_at = l->connected_at,
                   .remote_ip = l->remote_ip,
                   .channels = l->channels.size(),
                   .pending_requests = l->pending.size(),
                   .frames_in = l->frames_in,
                   .frames_out = l->frames_out,
                   .bytes_in = l->bytes_in,
                   .bytes_out = l->bytes_out,
                   .requests = l->requests,
                   .channels_opened = l->channels_opened});
  return out;
}

void TunnelHub::stop() {
  std::vector<std::shared_ptr<Link>> links;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [node, link] : links_) links.push_back(link);
  }
  timer_.request_stop();
  if (timer_.joinable()) timer_.join();
  for (auto& link : links) {
    if (link->connection) link->connection->close(common::ws_close::going_away, "the API is shutting down");
    disconnected(link);
  }
}

}  // namespace shardlyn
