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
};

// What the server hands requests to.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // Body limit for a request, decided from its method and target before the body is read.
  virtual std::size_t body_limit(std::string_view method, std::string_view target) const = 0;
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
  std::size_t in_flight() const;
  bool tls() const;

  struct Impl;  // public so the session template in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace common
