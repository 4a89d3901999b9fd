#pragma once
// The agent's end of the tunnel (GET /v1/agent/tunnel): one WebSocket dialled out to the API
// (common::WebSocketClient: TLS verified, X-Agent-Token, reconnect with backoff and jitter),
// carrying channels the API opens for user streams (console, logs, terminal) and requests
// (inventory). Frames are agentproto's; flow control is per channel, by credit.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agentproto/json.hpp"
#include "common/websocket_client.hpp"
#include "control/terminal.hpp"
#include "instances/reconciler.hpp"
#include "node/inventory.hpp"
#include "node/node_requests.hpp"

namespace agent {

struct TunnelOptions {
  std::string url;  // ws(s)://host:port/v1/agent/tunnel
  std::string agent_token;
  std::string ca_file;
};

class Tunnel {
 public:
  Tunnel(TunnelOptions options, Reconciler& reconciler, InventorySources inventory);
  ~Tunnel();  // stop()
  void start();
  void stop();
  bool connected() const;
  std::uint64_t connects() const;
  std::size_t open_channels() const;

 private:
  struct Channel;
  void on_message(std::string_view text);
  void on_closed();
  void open_channel(const agentproto::OpenChannel& open);
  void channel_data(const agentproto::ChannelData& data);
  void credit(const agentproto::ChannelCredit& credit);
  void close_channel(std::uint64_t id, const std::string& reason, bool tell_api);
  void answer(const agentproto::TunnelRequest& request);
  void pump(std::shared_ptr<Channel> channel, InstanceHandle handle);
  void terminal_pump(std::shared_ptr<Channel> channel);
  void container_pump(std::shared_ptr<Channel> channel);
  // Sends the console's lines as `event` until it ends or the channel closes.
  void pump_lines(Channel& channel, Console& console, const char* event);
  void terminal_data(Channel& channel, const agentproto::ChannelData& data);
  // Sends within the channel's credit, waiting for more; false when the channel or tunnel closed.
  bool send_within_credit(Channel& channel, std::string text);
  void channel_ended(const std::shared_ptr<Channel>& channel, const std::string& reason);
  void refuse(std::uint64_t channel, const std::string& event, const std::string& code, const std::string& message);
  bool send(const agentproto::TunnelFrame& frame);
  std::shared_ptr<Channel> find(std::uint64_t id) const;

  TunnelOptions options_;
  Reconciler& reconciler_;
  InventorySources inventory_;
  std::unique_ptr<common::WebSocketClient> client_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<Channel>> channels_;
  NodeRequests requests_;  // last: its workers end before what they answer through
};

}  // namespace agent
