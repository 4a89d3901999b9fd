#pragma once
// WebSocket routes as handlers see them: a handler object per connection and a send() that
// queues. No Beast or Asio types here; the session lives in src/websocket_session.cpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace common {

struct Request;

// Close codes (RFC 6455 7.4.1) the server sends.
namespace ws_close {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;     // server draining (SIGTERM)
constexpr std::uint16_t protocol_error = 1002;  // e.g. an unmasked client frame
constexpr std::uint16_t bad_payload = 1007;     // text that is not UTF-8
constexpr std::uint16_t policy = 1008;          // slow reader: send queue over its limit
constexpr std::uint16_t too_big = 1009;         // message over the route's limit
constexpr std::uint16_t internal_error = 1011;  // the handler threw
}  // namespace ws_close

// The server's side of one connection. Thread-safe: send() and close() may be called from
// any thread, before or after the connection ended (then they do nothing).
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a message. Returns false when the connection is closing, or when the queue would
  // exceed the route's send_queue_bytes: the reader is too slow and is closed with 1008.
  virtual bool send(std::string message, bool binary = false) = 0;
  // Starts the close handshake with this code.
  virtual void close(std::uint16_t code = ws_close::normal, std::string reason = {}) = 0;
  // Bytes queued and not yet written.
  virtual std::size_t queued_bytes() const = 0;
};

// What a WebSocket route opens for each connection, once the upgrade passed the guard.
// Calls come from the connection's I/O thread, one at a time: on_open, on_message...,
// on_close exactly once. Keep work short; post long work to the worker pool.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // The connection to send on; the handler may keep it (it is released after on_close).
  virtual void on_open(std::shared_ptr<WebSocketConnection> connection) = 0;
  virtual void on_message(std::string_view message, bool binary) = 0;
  // The code the peer sent (or the one the server closed with); 1006 when the connection
  // ended without a close frame.
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

struct WebSocketLimits {
  std::size_t max_message_bytes = 1024 * 1024;    // a larger message is closed with 1009
  std::size_t send_queue_bytes = 4 * 1024 * 1024;  // more queued is closed with 1008
  std::chrono::seconds idle_timeout{60};           // pinged at half of it; silence closes
};

// The WebSocket side of a route (Route::websocket). `open` runs after routing, rate limits,
// the Origin check and the route's authenticator; it may throw ApiError (e.g. 404).
struct WebSocketRoute {
  std::function<std::shared_ptr<WebSocketHandler>(Request&)> open;
  WebSocketLimits limits;
};

// What the pipeline hands the session in a 101 response.
struct WebSocketUpgrade {
  std::shared_ptr<WebSocketHandler> handler;
  WebSocketLimits limits;
};

// Counters of the server's WebSocket connections (for /metrics).
struct WebSocketStats {
  std::size_t open = 0;
  std::uint64_t opened = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t dropped_slow = 0;  // closed because the send queue overflowed
  std::uint64_t refused = 0;       // upgrades refused by the connection caps
};

}  // namespace common
