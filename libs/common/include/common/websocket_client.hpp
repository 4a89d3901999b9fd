#pragma once
// A WebSocket client that stays connected: ws:// or wss:// (certificate and host name
// verified, optionally against one pinned CA), custom upgrade headers, and reconnection with
// exponential backoff and jitter. Runs on its own thread; no Beast or Asio types here.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common {

struct WebSocketClientOptions {
  std::string url;                                           // ws://host:port/path or wss://host:port/path
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every upgrade
  std::string ca_file;      // wss: trust only this CA certificate (PEM); empty = system store
  bool verify_peer = true;  // wss: verify the chain and the host name (off only for tests)
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::seconds connect_timeout{10};       // TCP connect, TLS and upgrade handshakes
  std::chrono::seconds idle_timeout{30};          // pinged at half of it; silence reconnects
  std::chrono::milliseconds close_timeout{2000};  // what stop() waits for the peer's close
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  std::size_t send_queue_bytes = 16 * 1024 * 1024;
};

class WebSocketClient {
 public:
  struct Events {
    std::function<void()> open;  // connected (again)
    std::function<void(std::string_view message, bool binary)> message;
    // The connection ended (or an attempt failed: code 1006); a reconnect follows unless
    // stop() was called.
    std::function<void(std::uint16_t code, const std::string& reason)> closed;
  };
  WebSocketClient(WebSocketClientOptions options, Events events);
  ~WebSocketClient();  // stop()
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Starts connecting on the client's thread. Throws std::invalid_argument on a bad URL or
  // an unreadable ca_file.
  void start();
  // Closes with 1000 when connected (bounded by close_timeout), cancels a pending attempt,
  // backoff or read, and joins the thread. Any thread but the client's own (not from Events).
  void stop();
  // Queues a message; false when not connected or the queue is full. Any thread.
  bool send(std::string message, bool binary = false);
  bool connected() const;
  std::uint64_t connects() const;  // successful connections so far

  // Delay before reconnect attempt `attempt` (0 = first retry): initial * 2^attempt capped at
  // max, with jitter: a point in [d/2, d] chosen by `random01` in [0, 1).
  static std::chrono::milliseconds backoff(unsigned attempt, std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max, double random01);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace common
