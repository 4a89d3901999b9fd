#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>

#include "common/router.hpp"

namespace {

class Silent : public common::WebSocketHandler {
 public:
  void on_open(std::shared_ptr<common::WebSocketConnection>) override {}
  void on_message(std::string_view, bool) override {}
  void on_close(std::uint16_t, std::string_view) override {}
};

class Discard : public common::BodySink {
 public:
  void write(std::string_view, More more) override { more(); }
  common::Response finish() override { return common::Response::empty(204); }
  void abort() override {}
};

}  // namespace

TEST_CASE("router: WebSocket and streamed-body routes need no plain handler", "[common][router]") {
  common::Router router;
  router.add({.method = "GET", .path = "/v1/instances/{id}/console",
              .websocket = {.open = [](common::Request&) { return std::make_shared<Silent>(); }}});
  router.add({.method = "PUT", .path = "/v1/files/{path*}",
              .body_sink = [](common::Request&) { return std::make_shared<Discard>(); }});
  auto ws = router.match("GET", "/v1/instances/i-1/console");
  REQUIRE(ws.route != nullptr);
  CHECK(ws.route->websocket.open);
  CHECK(ws.params == std::vector<std::pair<std::string, std::string>>{{"id", "i-1"}});
  auto upload = router.match("PUT", "/v1/files/a/b.txt");
  REQUIRE(upload.route != nullptr);
  CHECK(upload.route->body_sink);
  // A WebSocket upgrade is a GET request (RFC 6455 4.1).
  CHECK_THROWS_AS(router.add({.method = "POST", .path = "/v1/tunnel",
                              .websocket = {.open = [](common::Request&) { return std::make_shared<Silent>(); }}}),
                  std::invalid_argument);
}
