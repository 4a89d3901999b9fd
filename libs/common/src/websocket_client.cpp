// The reconnecting WebSocket client: one io_context on its own thread, one connection at a
// time, an attempt chain resolve -> connect -> TLS -> upgrade -> read loop, and a timer
// between attempts.
#include "common/websocket_client.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/url/parse.hpp>

#include "common/log.hpp"

namespace common {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::chrono::milliseconds WebSocketClient::backoff(unsigned attempt, std::chrono::milliseconds initial,
                                                   std::chrono::milliseconds max, double random01) {
  double d = static_cast<double>(initial.count()) * std::pow(2.0, std::min(attempt, 30u));
  d = std::min(d, static_cast<double>(max.count()));
  double jittered = d / 2 + (d / 2) * std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(jittered));
}

struct WebSocketClient::Impl : std::enable_shared_from_this<WebSocketClient::Impl> {
  using Plain = websocket::stream<beast::tcp_stream>;
  using Tls = websocket::stream<ssl::stream<beast::tcp_stream>>;

  WebSocketClientOptions options;
  Events events;
  bool secure = false;
  std::string host, port, target;
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls_ctx{ssl::context::tls_client};
  tcp::resolver resolver{ioc};
  net::steady_timer retry{ioc};
  std::optional<Plain> plain;
  std::optional<Tls> tls;
  beast::flat_buffer buffer;
  struct Outgoing {
    std::string data;
    bool binary;
  };
  std::deque<Outgoing> queue;  // on the client's thread only
  bool writing = false;
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> is_open{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connect_count{0};
  unsigned attempt = 0;
  std::uint64_t generation = 0;  // connection attempts; stale handlers compare against it
  std::mt19937_64 rng{std::random_device{}()};
  std::thread thread;

  Impl(WebSocketClientOptions o, Events e) : options(std::move(o)), events(std::move(e)) {}

  template <class F>
  void with_stream(F&& f) {
    if (tls)
      f(*tls);
    else if (plain)
      f(*plain);
  }

  void parse_url() {
    auto url = boost::urls::parse_uri(options.url);
    if (!url) throw std::invalid_argument("invalid WebSocket URL '" + options.url + "'");
    std::string scheme(url->scheme());
    if (scheme != "ws" && scheme != "wss") throw std::invalid_argument("WebSocket URL must be ws:// or wss://");
    secure = scheme == "wss";
    host = std::string(url->host_address());
    if (host.empty()) throw std::invalid_argument("WebSocket URL without host");
    port = url->has_port() ? std::string(url->port()) : (secure ? "443" : "80");
    target = std::string(url->encoded_path());
    if (target.empty()) target = "/";
    if (url->has_query()) target += "?" + std::string(url->encoded_query());
    if (secure) {
      tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      if (options.verify_peer) {
        tls_ctx.set_verify_mode(ssl::verify_peer);
        boost::system::error_code ec;
        if (!options.ca_file.empty())
          tls_ctx.load_verify_file(options.ca_file, ec);  // pinned: nothing else is trusted
        else
          tls_ctx.set_default_verify_paths(ec);
        if (ec) throw std::invalid_argument("cannot load CA '" + options.ca_file + "': " + ec.message());
      } else {
        tls_ctx.set_verify_mode(ssl::verify_none);
      }
    }
  }

  void connect() {
    if (stopping) return;
    std::uint64_t gen = ++generation;
    buffer.clear();
    plain.reset();
    tls.reset();
    if (secure) {
      tls.emplace(ioc, tls_ctx);
      if (options.verify_peer) tls->next_layer().set_verify_callback(ssl::host_name_verification(host));
      SSL_set_tlsext_host_name(tls->next_layer().native_handle(), host.c_str());
    } else {
      plain.emplace(ioc);
    }
    resolver.async_resolve(
        host, port, [self = shared_from_this(), gen](beast::error_code ec, tcp::resolver::results_type r) {
          if (gen != self->generation) return;
          if (ec) return self->failed(ec, "resolve");
          self->with_stream([&](auto& ws) {
            beast::get_lowest_layer(ws).expires_after(self->options.connect_timeout);
            beast::get_lowest_layer(ws).async_connect(r, [self, gen](beast::error_code ec2, const tcp::endpoint&) {
              if (gen != self->generation) return;
              if (ec2) return self->failed(ec2, "connect");
              self->after_connect(gen);
            });
          });
        });
  }

  void after_connect(std::uint64_t gen) {
    if (tls) {
      tls->next_layer().async_handshake(ssl::stream_base::client,
                                        [self = shared_from_this(), gen](beast::error_code ec) {
                                          if (gen != self->generation) return;
                                          if (ec) return self->failed(ec, "tls handshake");
                                          self->upgrade(gen);
                                        });
    } else {
      upgrade(gen);
    }
  }

  void upgrade(std::uint64_t gen) {
    with_stream([&](auto& ws) {
      beast::get_lowest_layer(ws).expires_never();
      websocket::stream_base::timeout t{};
      t.handshake_timeout = options.connect_timeout;
      t.idle_timeout = options.idle_timeout;
      t.keep_alive_pings = true;
      ws.set_option(t);
      ws.read_message_max(options.max_message_bytes);
      ws.set_option(websocket::stream_base::decorator([headers = options.headers](websocket::request_type& req) {
        for (const auto& [name, value] : headers) req.set(name, value);
      }));
      std::string authority = host + ":" + port;
      ws.async_handshake(authority, target, [self = shared_from_this(), gen](beast::error_code ec) {
        if (gen != self->generation) return;
        if (ec) return self->failed(ec, "upgrade");
        self->opened(gen);
      });
    });
  }

  void opened(std::uint64_t gen) {
    attempt = 0;
    is_open = true;
    ++connect_count;
    if (events.open) events.open();
    if (!queue.empty() && !writing) write_next();
    read(gen);
  }

  void read(std::uint64_t gen) {
    with_stream([&](auto& ws) {
      ws.async_read(buffer, [self = shared_from_this(), gen, &ws](beast::error_code ec, std::size_t) {
        if (gen != self->generation) return;
        if (ec) {
          if (self->stopping) return;  // begin_stop's close handshake reports the end
          auto reason = ws.reason();
          std::uint16_t code = ec == websocket::error::closed ? static_cast<std::uint16_t>(reason.code) : 1006;
          return self->ended(code, std::string(reason.reason.data(), reason.reason.size()));
        }
        auto data = self->buffer.cdata();
        if (self->events.message)
          self->events.message(std::string_view(static_cast<const char*>(data.data()), data.size()), ws.got_binary());
        self->buffer.consume(self->buffer.size());
        self->read(gen);
      });
    });
  }

  void write_next() {
    writing = true;
    std::uint64_t gen = generation;
    with_stream([&](auto& ws) {
      ws.binary(queue.front().binary);
      ws.async_write(net::buffer(queue.front().data),
                     [self = shared_from_this(), gen](beast::error_code ec, std::size_t) {
                       self->writing = false;
                       self->queued -= self->queue.front().data.size();
                       self->queue.pop_front();
                       if (ec || gen != self->generation) return;
                       if (!self->queue.empty()) self->write_next();
                     });
    });
  }

  void failed(const beast::error_code& ec, const char* step) {
    log::debug("websocket connect attempt failed", {{"url", options.url}, {"step", step}, {"error", ec.message()}});
    ended(1006, std::string(step) + ": " + ec.message());
  }

  void ended(std::uint16_t code, const std::string& reason) {
    bool was_open = is_open.exchange(false);
    ++generation;  // handlers of this connection are stale from here
    close_socket();
    // Unsent messages belonged to the old connection.
    std::size_t keep = writing ? 1 : 0;
    while (queue.size() > keep) {
      queued -= queue.back().data.size();
      queue.pop_back();
    }
    if (events.closed && (was_open || code != 1006 || !stopping)) events.closed(code, reason);
    if (stopping) return finish();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = backoff(attempt++, options.backoff_initial, options.backoff_max, unit(rng));
    retry.expires_after(delay);
    retry.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  // Closes the socket and the TCP stream's timer. The stream object stays until the next
  // attempt: completions of its aborted operations may still be queued.
  void close_socket() {
    with_stream([](auto& ws) { beast::get_lowest_layer(ws).close(); });
  }

  void begin_stop() {
    stopping = true;
    retry.cancel();
    resolver.cancel();
    if (!is_open) {
      ++generation;
      close_socket();
      return finish();
    }
    // A normal close; the pending read ends with it (aborted or closed) and stays silent.
    std::uint64_t gen = generation;
    with_stream([&](auto& ws) {
      ws.async_close(websocket::close_code::normal, [self = shared_from_this(), gen, &ws](beast::error_code ec) {
        if (gen != self->generation) return;
        if (ec) return self->ended(1006, "close: " + ec.message());
        auto reason = ws.reason();
        self->ended(static_cast<std::uint16_t>(reason.code), std::string(reason.reason.data(), reason.reason.size()));
      });
    });
    retry.expires_after(options.close_timeout);
    retry.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->generation) return;
      self->ended(1006, "close timed out");
    });
  }

  // Ends the thread's run() now rather than when the last timer fires: Beast leaves the
  // WebSocket stream's handshake or ping timer armed after a failed upgrade or read.
  // WebSocketClient::stop() then runs the completions still queued.
  void finish() {
    retry.cancel();
    resolver.cancel();
    close_socket();
    work.reset();
    ioc.stop();
  }
};

WebSocketClient::WebSocketClient(WebSocketClientOptions options, Events events)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(events))) {}

WebSocketClient::~WebSocketClient() { stop(); }

void WebSocketClient::start() {
  if (impl_->thread.joinable()) return;
  impl_->parse_url();
  impl_->work.emplace(impl_->ioc.get_executor());
  net::post(impl_->ioc, [impl = impl_] { impl->connect(); });
  impl_->thread = std::thread([impl = impl_] { impl->ioc.run(); });
}

void WebSocketClient::stop() {
  if (!impl_->thread.joinable()) return;
  net::post(impl_->ioc, [impl = impl_] {
    if (!impl->stopping) impl->begin_stop();
  });
  impl_->thread.join();
  // The aborted operations' handlers hold the client; running them (stale by generation, so
  // they only release it) leaves no cycle. Timers still armed die with the io_context.
  impl_->ioc.restart();
  impl_->ioc.poll();
}

bool WebSocketClient::send(std::string message, bool binary) {
  if (!impl_->is_open) return false;
  std::size_t size = message.size();
  if (impl_->queued.fetch_add(size) + size > impl_->options.send_queue_bytes) {
    impl_->queued -= size;
    return false;
  }
  net::post(impl_->ioc, [impl = impl_, m = std::move(message), binary]() mutable {
    if (!impl->is_open) {
      impl->queued -= m.size();
      return;
    }
    impl->queue.push_back({std::move(m), binary});
    if (!impl->writing) impl->write_next();
  });
  return true;
}

bool WebSocketClient::connected() const { return impl_->is_open; }
std::uint64_t WebSocketClient::connects() const { return impl_->connect_count; }

}  // namespace common
