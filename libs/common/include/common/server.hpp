#pragma once
// HTTP/1.1 server on Beast/Asio (plain TCP or TLS, same session code). Beast stays inside
// src/http_server.cpp; this header carries no Boost.Asio types.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http.hpp"
#include "common/websocket.hpp"

namespace common {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;           // 0 = any free port
  std::string tls_certificate_pem;  // empty = plain TCP
  std::string tls_private_key_pem;
  std::size_t max_header_bytes = 16 * 1024;      // request line + headers; more is 431
  std::size_t default_body_limit = 1024 * 1024;  // routes may declare their own; more is 413
  std::chrono::seconds header_timeout{15};       // idle keep-alive wait plus the whole header
  std::chrono::seconds body_timeout{60};
  std::chrono::seconds write_timeout{60};
  std::chrono::seconds shutdown_grace{10};  // in-flight work gets this long after SIGTERM
  std::size_t max_connections = 10000;      // beyond this new connections are closed at once
  int io_threads = 0;                       // 0 = one per core
  int worker_threads = 0;                   // pool for offloaded handlers; 0 = one per core
  std::size_t websocket_max_connections = 10000;  // open WebSockets; more upgrades get 503
  std::size_t websocket_max_per_ip = 256;         // per client IP; more get 429
  std::chrono::seconds websocket_close_timeout{5};  // a close handshake the peer does not finish
};

// How the session reads a request's body, decided from its header.
struct Admission {
  std::size_t body_limit = 0;
  // The route consumes its body as it arrives: the session hands the header-only request to
  // handle() at once, and reads the body into the answer's request_body sink (if any).
  bool stream_body = false;
};

// What the server hands requests to.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // Called once per request when its header arrived, before any body byte is read: routes it
  // (the sink may keep the match in request.match) and says how to read the body.
  virtual Admission admit(Request& head) = 0;
  // Handles one request; `respond` may be called from any thread, exactly once.
  virtual void handle(Request request, std::function<void(Response)> respond) = 0;
  // The response for a request that could not be parsed (400, 413, 431).
  virtual Response protocol_error(int status, std::string_view message, const std::string& peer_ip, bool tls) = 0;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestSink& sink);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the bound port. Throws std::runtime_error on failure.
  std::uint16_t listen();
  // Serves until SIGTERM/SIGINT or stop(): then stops accepting, lets in-flight requests
  // finish (bounded by shutdown_grace), closes idle connections and returns.
  void run();
  // Starts the same drain as a signal; safe from any thread.
  void stop();
  // Runs a function on the worker pool (never on an I/O thread).
  void post_work(std::function<void()> work);

  std::size_t open_connections() const;
  WebSocketStats websocket_stats() const;
  std::size_t in_flight() const;
  bool tls() const;

  struct Impl;  // public so the session template in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace common
