#include "common/websocket_client.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using common::WebSocketClient;
using ms = std::chrono::milliseconds;

TEST_CASE("websocket client: backoff doubles, is capped, and jitters within [d/2, d]", "[common][websocket]") {
  const ms initial{500}, max{30000};
  CHECK(WebSocketClient::backoff(0, initial, max, 0.999999).count() == 499);
  CHECK(WebSocketClient::backoff(0, initial, max, 0.0) == ms(250));
  CHECK(WebSocketClient::backoff(1, initial, max, 0.0) == ms(500));
  CHECK(WebSocketClient::backoff(3, initial, max, 0.0) == ms(2000));
  // Capped at max however many attempts failed (no overflow for huge attempt numbers).
  CHECK(WebSocketClient::backoff(10, initial, max, 0.0) == ms(15000));
  CHECK(WebSocketClient::backoff(1000, initial, max, 0.5) == ms(22500));
  for (double r : {0.0, 0.1, 0.5, 0.9, 0.999}) {
    auto d = WebSocketClient::backoff(4, initial, max, r);
    CHECK(d >= ms(4000));
    CHECK(d <= ms(8000));
  }
}

TEST_CASE("websocket client: a URL that is not ws:// or wss:// is refused at start", "[common][websocket]") {
  for (const char* url : {"http://127.0.0.1:1/x", "not a url", "ws://"}) {
    INFO(url);
    WebSocketClient client({.url = url}, {});
    CHECK_THROWS_AS(client.start(), std::invalid_argument);
  }
  WebSocketClient pinned({.url = "wss://127.0.0.1:1/", .ca_file = "/nonexistent/ca.pem"}, {});
  CHECK_THROWS_AS(pinned.start(), std::invalid_argument);
}

TEST_CASE("websocket client: send is refused while not connected", "[common][websocket]") {
  WebSocketClient client({.url = "ws://127.0.0.1:1/"}, {});
  CHECK_FALSE(client.send("hello"));
  CHECK_FALSE(client.connected());
  CHECK(client.connects() == 0);
}
