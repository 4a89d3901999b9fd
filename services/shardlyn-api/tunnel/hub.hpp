#pragma once
// The API's end of the agent tunnel (GET /v1/agent/tunnel, decision 0032): one WebSocket per
// node, dialled by its agent (a new one replaces the old), carrying
//   - requests answered once (agentproto::TunnelRequest -> TunnelResponse), with a timeout, and
//   - channels (user streams: console, logs, terminal), each with its own send credit, so one
//     slow reader never holds back another channel or the tunnel.
// The hub knows nothing of what a request or a channel event means: RequestKind and the
// channel events grow in agentproto, the areas built on the hub give them their meaning.
// Nothing here holds a thread while it waits: replies and channel events are delivered from
// the tunnel's I/O thread (keep callbacks short) or from the hub's timer thread (timeouts).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agentproto/json.hpp"
#include "common/error.hpp"
#include "common/websocket.hpp"
#include "nodes/runtime_seams.hpp"

namespace shardlyn {

// The codes of what the hub itself refuses (TunnelResponse::error_code, TunnelError::code).
namespace tunnel_codes {
inline constexpr std::string_view kNodeOffline = "node_offline";    // no tunnel from the node
inline constexpr std::string_view kTimeout = "agent_timeout";       // no response in time
inline constexpr std::string_view kTunnelClosed = "tunnel_closed";  // the tunnel dropped meanwhile
inline constexpr std::string_view kBusy = "tunnel_busy";            // too many requests waiting
}  // namespace tunnel_codes

// A request or channel the hub could not serve.
class TunnelError : public std::runtime_error {
 public:
  TunnelError(std::string code, std::string message) : std::runtime_error(std::move(message)), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// How routes answer a hub failure: node_offline 409, agent_timeout 504, tunnel_closed and
// tunnel_busy 503, an agent's own error code 502; the message names the node and the code.
common::ApiError tunnel_api_error(std::string_view code, const std::string& message);

// What one channel hears: on_data from the tunnel's I/O thread, in the agent's order, and
// on_close exactly once (from the I/O thread, or from the thread that calls close(), so a sink
// must be thread-safe: an on_data already under way may still finish after it). Never block.
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  virtual void on_data(const agentproto::ChannelData& data) = 0;
  // The agent closed the channel (its reason), the tunnel dropped or was replaced
  // ("tunnel_closed: ..."), or the channel's own close() was called (its reason).
  virtual void on_close(const std::string& reason) = 0;
};

// The API's side of one open channel. Thread-safe; everything is a no-op once closed.
class TunnelChannel {
 public:
  virtual ~TunnelChannel() = default;
  virtual std::uint64_t id() const = 0;
  virtual const std::string& node_id() const = 0;
  // Sends an event to the agent (`channel` is filled in); false when the channel is closed.
  virtual bool send(agentproto::ChannelData data) = 0;
  // Grants the agent `bytes` more of send credit on this channel (give it back as the data
  // it sent is consumed, never as one slow viewer reads it).
  virtual void credit(std::uint64_t bytes) = 0;
  // Closes the channel on both sides; the sink hears on_close(reason).
  virtual void close(const std::string& reason = {}) = 0;
  virtual bool closed() const = 0;
};

// One connected agent as /v1/tunnel/agents shows it.
struct AgentLink {
  std::string node_id;
  std::string org_id;
  std::int64_t connected_at = 0;  // unix seconds
  std::string remote_ip;
  std::size_t channels = 0;            // open now
  std::size_t pending_requests = 0;    // waiting for their response
  std::uint64_t frames_in = 0, frames_out = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::uint64_t requests = 0, channels_opened = 0;
};

// The whole hub as /v1/tunnel/stats shows it (counters since the API started).
struct TunnelStats {
  std::int64_t since = 0;  // unix seconds
  std::size_t agents = 0, channels = 0, pending_requests = 0;
  std::uint64_t connections = 0, replaced = 0, disconnections = 0;
  std::uint64_t requests = 0, responses = 0, timeouts = 0, refused_offline = 0;
  std::uint64_t channels_opened = 0;
  std::uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0, bad_frames = 0;
};

struct TunnelOptions {
  std::size_t max_pending_per_node = 256;  // requests waiting on one node; more: tunnel_busy
};

// A node connected or lost its tunnel (from the tunnel's I/O thread; keep it short).
using TunnelListener = std::function<void(const std::string& node_id, bool connected)>;

class TunnelHub {
 public:
  explicit TunnelHub(TunnelOptions options = {});
  ~TunnelHub();  // stop()
  TunnelHub(const TunnelHub&) = delete;
  TunnelHub& operator=(const TunnelHub&) = delete;

  // Whether the node's agent holds a tunnel now.
  bool connected(const std::string& node_id) const;

  using Reply = std::function<void(agentproto::TunnelResponse response)>;
  // Sends the request (its `id` is assigned by the hub) and calls `reply` exactly once: with
  // the agent's response, or with error_code node_offline (at once, from this thread),
  // agent_timeout (after `timeout`), tunnel_closed (the tunnel dropped or was replaced) or
  // tunnel_busy. No thread waits meanwhile.
  void request(const std::string& node_id, agentproto::TunnelRequest request, std::chrono::milliseconds timeout,
               Reply reply);

  // Opens a channel on the node's tunnel (`open.channel` is assigned by the hub; the agent is
  // granted `open.window_bytes` of credit). Throws TunnelError node_offline when the node has
  // no tunnel. The sink hears the channel's data and its close.
  std::shared_ptr<TunnelChannel> open_channel(const std::string& node_id, agentproto::OpenChannel open,
                                              std::shared_ptr<ChannelSink> sink);

  // Called on every connect and disconnect of a node (register before the server serves).
  void listen(TunnelListener listener);

  // The WebSocket handler for the agent `agent` dialling in (GET /v1/agent/tunnel, after the
  // agent guard). Replaces the node's previous tunnel: its requests fail with tunnel_closed,
  // its channels close.
  std::shared_ptr<common::WebSocketHandler> accept(const AgentCaller& agent, std::string remote_ip);

  TunnelStats stats() const;
  std::vector<AgentLink> agents() const;

  // Fails every waiting request (tunnel_closed), closes every channel, stops the timer thread.
  void stop();

 private:
  struct Link;
  struct Pending;
  class Channel;
  class AgentSocket;
  friend class AgentSocket;
  friend class Channel;
  using Deadline = std::chrono::steady_clock::time_point;

  void run_timer(std::stop_token stop);
  void received(const std::shared_ptr<Link>& link, std::string_view text);
  void disconnected(const std::shared_ptr<Link>& link);
  void respond(const std::shared_ptr<Link>& link, agentproto::TunnelResponse response);
  void channel_frame(const std::shared_ptr<Link>& link, std::uint64_t channel, const agentproto::TunnelFrame& frame);
  bool send(const std::shared_ptr<Link>& link, const agentproto::TunnelFrame& frame);
  void notify(const std::string& node_id, bool connected);

  TunnelOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<std::string, std::shared_ptr<Link>> links_;  // by node id
  std::multimap<Deadline, std::pair<std::string, std::string>> deadlines_;  // -> (node id, request id)
  std::uint64_t next_request_ = 1, next_channel_ = 1;
  TunnelStats stats_;
  std::vector<TunnelListener> listeners_;
  bool stopped_ = false;
  std::jthread timer_;
};

}  // namespace shardlyn
