#pragma once
// Internal to libcommon: what the HTTP session and the WebSocket session it upgrades into
// share. Beast and Asio types are fine here; this header is not installed.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/http.hpp"
#include "common/server.hpp"

namespace common::detail {

// A connection the server can ask to wind down when it drains.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close_if_idle() = 0;
};

// The server-wide state WebSocket sessions report to: caps, counters, the drain list.
struct WebSocketHost {
  WebSocketHost(const ServerOptions& o, std::atomic<std::size_t>& c, std::atomic<bool>& d) : options(o), connections(c), draining(d) {}

  const ServerOptions& options;
  std::atomic<std::size_t>& connections;  // all connections of the server, HTTP and WebSocket
  std::atomic<bool>& draining;
  std::function<void(const std::shared_ptr<SessionBase>&)> remember;  // joins the drain list

  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> opened{0}, messages_in{0}, messages_out{0}, dropped_slow{0}, refused{0};

  enum class Reserve { Ok, TooMany, TooManyFromIp };
  // Counts a new connection from `ip` against the caps (released by release()).
  Reserve reserve(const std::string& ip);
  void release(const std::string& ip);
  WebSocketStats stats() const;

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::asio::ssl::stream<boost::beast::tcp_stream>;
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Completes the upgrade (101 with the pipeline's headers) and runs the connection until it
// closes. The caller reserved the connection with host.reserve(peer_ip).
void start_websocket(WebSocketHost& host, PlainStream&& stream, UpgradeRequest&& request, Response&& accepted,
                     std::string peer_ip);
void start_websocket(WebSocketHost& host, TlsStream&& stream, UpgradeRequest&& request, Response&& accepted,
                     std::string peer_ip);

}  // namespace common::detail
