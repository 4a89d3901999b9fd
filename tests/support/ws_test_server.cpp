// A small server built from libcommon for the WebSocket and streamed-body tests (not a
// product service): the same pipeline, guards, limits, TLS and drain as every service.
//   GET  /ws/echo          echoes every message, text as text and binary as binary
//   GET  /ws/private       the same behind a Bearer token (WS_TEST_TOKEN)
//   GET  /ws/control       "close <code> [reason]" closes with that code;
//                          "flood <count> <bytes>" sends that many binary messages
//   POST /upload/hash      streamed body: answers {"bytes", "sha256"} (WS_TEST_UPLOAD_LIMIT_BYTES)
//   POST /upload/small     the same with a 1 MiB body limit
//   PUT  /upload/file/{name}  streamed into DATA_DIR/uploads/<name>
#include <openssl/evp.h>

#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "common/body_sink.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/service.hpp"
#include "security/certificate.hpp"

namespace {

constexpr std::string_view kOpenApi = R"(openapi: 3.1.0
info: {title: ws-test-server, version: "1"}
paths: {}
)";

class Echo : public common::WebSocketHandler {
 public:
  void on_open(std::shared_ptr<common::WebSocketConnection> c) override { connection_ = std::move(c); }
  void on_message(std::string_view message, bool binary) override { connection_->send(std::string(message), binary); }
  void on_close(std::uint16_t, std::string_view) override { connection_.reset(); }

 private:
  std::shared_ptr<common::WebSocketConnection> connection_;
};

class Control : public common::WebSocketHandler {
 public:
  void on_open(std::shared_ptr<common::WebSocketConnection> c) override { connection_ = std::move(c); }
  void on_message(std::string_view message, bool) override {
    std::string text(message);
    unsigned code = 0;
    unsigned long count = 0, bytes = 0;
    char reason[124] = {0};
    if (std::sscanf(text.c_str(), "close %u %123[^\n]", &code, reason) >= 1) {
      connection_->close(static_cast<std::uint16_t>(code), reason);
    } else if (std::sscanf(text.c_str(), "flood %lu %lu", &count, &bytes) == 2) {
      std::string payload(bytes, 'x');
      unsigned long sent = 0;
      while (sent < count && connection_->send(payload, true)) ++sent;
      connection_->send(fmt::format("queued {}", sent));
    } else {
      connection_->send("unknown command");
    }
  }
  void on_close(std::uint16_t, std::string_view) override { connection_.reset(); }

 private:
  std::shared_ptr<common::WebSocketConnection> connection_;
};

// Hashes the body as it arrives; memory stays one piece whatever the size.
class HashSink : public common::BodySink {
 public:
  HashSink() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~HashSink() override { EVP_MD_CTX_free(ctx_); }
  void write(std::string_view piece, More more) override {
    EVP_DigestUpdate(ctx_, piece.data(), piece.size());
    bytes_ += piece.size();
    more();
  }
  common::Response finish() override {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
    std::string hex;
    for (unsigned i = 0; i < n; ++i) hex += fmt::format("{:02x}", digest[i]);
    return common::Response::json({{"bytes", bytes_}, {"sha256", hex}});
  }
  void abort() override {}

 private:
  EVP_MD_CTX* ctx_;
  std::uint64_t bytes_ = 0;
};

void use_tls(common::Service& service) {
  auto dir = service.data_dir() / "tls";
  if (!std::filesystem::exists(dir / "cert.pem")) {
    std::filesystem::create_directories(dir);
    auto pair = security::self_signed_certificate("localhost", {"localhost"}, {"127.0.0.1"});
    common::write_file_atomic(dir / "cert.pem", pair.certificate_pem, 0644);
    common::write_file_atomic(dir / "key.pem", pair.private_key_pem, 0600);
  }
  service.use_tls(common::read_file(dir / "cert.pem"), common::read_file(dir / "key.pem"));
}

void setup(common::Service& service) {
  const auto& c = service.config();
  if (c.get_bool("WS_TEST_TLS")) use_tls(service);
  service.websocket_caps(static_cast<std::size_t>(c.get_int("WS_TEST_MAX_CONNECTIONS", 1, 1'000'000)),
                         static_cast<std::size_t>(c.get_int("WS_TEST_MAX_PER_IP", 1, 1'000'000)));
  common::WebSocketLimits limits;
  limits.max_message_bytes = static_cast<std::size_t>(c.get_int("WS_TEST_MAX_MESSAGE_BYTES", 1, 1 << 30));
  limits.send_queue_bytes = static_cast<std::size_t>(c.get_int("WS_TEST_SEND_QUEUE_BYTES", 1, 1 << 30));
  limits.idle_timeout = std::chrono::seconds(c.get_int("WS_TEST_IDLE_TIMEOUT_S", 1, 3600));
  std::string token = c.get("WS_TEST_TOKEN");
  service.auth_scheme("token", [token](common::Request& req) {
    if (req.bearer_token() != std::optional<std::string_view>(token)) throw common::ApiError(401, "invalid token");
  });
  auto uploads = service.data_dir() / "uploads";
  std::filesystem::create_directories(uploads);
  auto upload_limit = static_cast<std::size_t>(c.get_int("WS_TEST_UPLOAD_LIMIT_BYTES", 1, std::int64_t{1} << 40));
  auto echo = [](common::Request&) { return std::make_shared<Echo>(); };
  auto hash = [](common::Request&) { return std::make_shared<HashSink>(); };
  service.add({
      {.method = "GET", .path = "/ws/echo", .websocket = {.open = echo, .limits = limits}},
      {.method = "GET", .path = "/ws/private", .auth = "token", .websocket = {.open = echo, .limits = limits}},
      {.method = "GET",
       .path = "/ws/control",
       .websocket = {.open = [](common::Request&) { return std::make_shared<Control>(); }, .limits = limits}},
      {.method = "POST", .path = "/upload/hash", .body_limit = upload_limit, .body_sink = hash},
      {.method = "POST", .path = "/upload/small", .body_limit = 1024 * 1024, .body_sink = hash},
      {.method = "PUT",
       .path = "/upload/file/{name}",
       .body_limit = upload_limit,
       .body_sink =
           [uploads](common::Request& req) {
             std::string name(req.param("name"));
             if (name.empty() || name.find_first_of("/\\") != std::string::npos || name[0] == '.')
               throw common::ApiError::bad_request("invalid file name");
             return std::make_shared<common::FileBodySink>(
                 uploads / name, [](const std::filesystem::path& path, std::uint64_t bytes) {
                   return common::Response::json({{"bytes", bytes}, {"path", path.string()}}, 201);
                 });
           }},
  });
}

}  // namespace

int main(int argc, char** argv) {
  common::ServiceInfo info{
      .name = "ws-test-server",
      .summary = "WebSocket and streamed-body test server built from libcommon",
      .metrics_prefix = "ws_test",
      .style = common::ResponseStyle::Bare,
      .host_env = "WS_TEST_HOST",
      .port_env = "WS_TEST_PORT",
      .default_port = 8099,
      .rate_limit_env = "WS_TEST_RATE_LIMIT",
      .default_rate_limit = "100000/s",
      .openapi_yaml = kOpenApi,
      .options = {
          {"WS_TEST_TLS", "false", "serve wss:// with a self-signed certificate in DATA_DIR/tls"},
          {"WS_TEST_TOKEN", "test-token", "Bearer token for /ws/private"},
          {"WS_TEST_MAX_MESSAGE_BYTES", "1048576", "largest WebSocket message (1009 beyond)"},
          {"WS_TEST_SEND_QUEUE_BYTES", "1048576", "queued bytes per connection (1008 beyond)"},
          {"WS_TEST_IDLE_TIMEOUT_S", "60", "WebSocket idle timeout"},
          {"WS_TEST_MAX_CONNECTIONS", "10000", "open WebSockets"},
          {"WS_TEST_MAX_PER_IP", "5000", "open WebSockets per client IP"},
          {"WS_TEST_UPLOAD_LIMIT_BYTES", "4294967296", "body limit of /upload/hash and /upload/file"},
      }};
  return common::run_service(std::move(info), argc, argv, setup);
}
