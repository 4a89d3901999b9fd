#include "common/websocket_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

using common::WebSocketClient;
using common::WebSocketClientOptions;
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

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// What the client reported, in order, for the stop() cases below.
struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;

  WebSocketClient::Events callbacks() {
    return {.open = [this] { add("open"); },
            .message = {},
            .closed = [this](std::uint16_t code, const std::string&) { add("closed " + std::to_string(code)); }};
  }
  void add(std::string event) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(event));
    changed.notify_all();
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(30), [&] { return events.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

// Long enough that a stop() waiting for either would hang the case far past the bound
// checked, short enough for ctest to report it.
WebSocketClientOptions slow_options(std::uint16_t port) {
  WebSocketClientOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/";
  o.backoff_initial = std::chrono::seconds(100);
  o.backoff_max = std::chrono::seconds(100);
  o.connect_timeout = std::chrono::seconds(100);
  return o;
}

// stop() must not wait for connect_timeout or the backoff; half of either cannot be
// reached by a prompt stop on any machine.
template <class F>
std::chrono::steady_clock::duration timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - start;
}

std::string read_request(tcp::socket& socket) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    boost::system::error_code ec;
    std::size_t n = socket.read_some(net::buffer(buffer), ec);
    if (ec) break;
    request.append(buffer, n);
  }
  return request;
}

// A client started against a listener of the case's own.
struct Peer {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  Recorder recorder;
  WebSocketClient client{slow_options(acceptor.local_endpoint().port()), recorder.callbacks()};

  // The peer's socket once the client's upgrade request arrived on it.
  tcp::socket upgrade_in_flight() {
    client.start();
    tcp::socket socket = acceptor.accept();
    REQUIRE(read_request(socket).starts_with("GET / HTTP/1.1"));
    return socket;
  }
};

}  // namespace

TEST_CASE("websocket client: stop() during backoff after a refused connection returns at once", "[common][websocket]") {
  net::io_context ioc;
  tcp::acceptor probe(ioc, {net::ip::make_address("127.0.0.1"), 0});
  std::uint16_t closed_port = probe.local_endpoint().port();
  probe.close();

  Recorder recorder;
  WebSocketClient client(slow_options(closed_port), recorder.callbacks());
  client.start();
  REQUIRE(recorder.wait_for_count(1));  // the first attempt failed; the next is 50-100 s away
  auto took = timed([&] { client.stop(); });
  CHECK(took < std::chrono::seconds(50));
  CHECK(recorder.snapshot() == std::vector<std::string>{"closed 1006"});
  CHECK_FALSE(client.connected());
  CHECK(client.connects() == 0);
}

TEST_CASE("websocket client: stop() during backoff after a refused upgrade returns at once", "[common][websocket]") {
  // Beast keeps the stream's handshake timer (connect_timeout) armed after this failure.
  Peer peer;
  tcp::socket socket = peer.upgrade_in_flight();
  net::write(socket, net::buffer(std::string("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")));
  REQUIRE(peer.recorder.wait_for_count(1));
  auto took = timed([&] { peer.client.stop(); });
  CHECK(took < std::chrono::seconds(50));
  CHECK(peer.recorder.snapshot() == std::vector<std::string>{"closed 1006"});
  CHECK(peer.client.connects() == 0);
}

TEST_CASE("websocket client: stop() during an unanswered upgrade returns at once", "[common][websocket]") {
  Peer peer;
  tcp::socket socket = peer.upgrade_in_flight();
  auto took = timed([&] { peer.client.stop(); });
  CHECK(took < std::chrono::seconds(50));
  // A stop while connecting reports nothing: the attempt never opened.
  CHECK(peer.recorder.snapshot().empty());
  CHECK(peer.client.connects() == 0);
}

TEST_CASE("websocket client: stop() while connected closes with 1000 and returns at once", "[common][websocket]") {
  namespace websocket = boost::beast::websocket;
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  Recorder recorder;
  WebSocketClient client(slow_options(acceptor.local_endpoint().port()), recorder.callbacks());
  client.start();
  websocket::stream<tcp::socket> server(acceptor.accept());
  server.accept();
  REQUIRE(recorder.wait_for_count(1));
  // The peer reads until the client's close frame (Beast answers it) and records its code.
  std::uint16_t peer_saw = 0;
  std::thread reader([&] {
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (!ec) server.read(buffer, ec);
    if (ec == websocket::error::closed) peer_saw = static_cast<std::uint16_t>(server.reason().code);
  });
  auto took = timed([&] { client.stop(); });
  reader.join();
  CHECK(took < std::chrono::seconds(50));
  CHECK(peer_saw == 1000);
  CHECK(recorder.snapshot() == std::vector<std::string>{"open", "closed 1000"});
  CHECK_FALSE(client.connected());
  CHECK(client.connects() == 1);
}
