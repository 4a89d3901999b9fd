// WebSocket connections upgraded from an HTTP session: RFC 6455 framing, masking, UTF-8 and
// size checks and ping/pong by Beast; a bounded send queue per connection, close handshake
// with codes and a hard deadline, caps and counters here.
#include "websocket_session.hpp"

#include <deque>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "common/log.hpp"

namespace common::detail {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
namespace net = boost::asio;

WebSocketHost::Reserve WebSocketHost::reserve(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto& from_ip = per_ip_[ip];
  Reserve r = Reserve::Ok;
  if (open.load() >= options.websocket_max_connections)
    r = Reserve::TooMany;
  else if (from_ip >= options.websocket_max_per_ip)
    r = Reserve::TooManyFromIp;
  if (r != Reserve::Ok) {
    if (from_ip == 0) per_ip_.erase(ip);
    ++refused;
    return r;
  }
  ++from_ip;
  ++open;
  ++opened;
  return r;
}

void WebSocketHost::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  --open;
}

WebSocketStats WebSocketHost::stats() const {
  return {open.load(), opened.load(), messages_in.load(), messages_out.load(), dropped_slow.load(), refused.load()};
}

namespace {

// The close code a failed read stands for (what was sent, or what the peer sent).
std::uint16_t close_code_for(const beast::error_code& ec, const websocket::close_reason& peer) {
  if (ec == websocket::error::closed) return peer.code == websocket::close_code::none ? 1005 : peer.code;
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) return ws_close::too_big;
  if (ec == websocket::error::bad_frame_payload) return ws_close::bad_payload;
  if (ec.category() == websocket::make_error_code(websocket::error::bad_opcode).category())
    return ws_close::protocol_error;
  return 1006;  // no close frame: reset, timeout, teardown
}

template <class Next>
class WebSocketSession : public SessionBase,
                         public WebSocketConnection,
                         public std::enable_shared_from_this<WebSocketSession<Next>> {
 public:
  WebSocketSession(WebSocketHost& host, Next&& next, Response&& accepted, std::string peer_ip)
      : host_(host),
        ws_(std::move(next)),
        handler_(std::move(accepted.websocket->handler)),
        limits_(accepted.websocket->limits),
        headers_(std::move(accepted.headers)),
        peer_ip_(std::move(peer_ip)),
        close_timer_(ws_.get_executor()) {
    ++host_.connections;
  }
  ~WebSocketSession() override {
    host_.release(peer_ip_);
    --host_.connections;
  }

  void start(UpgradeRequest&& request) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = host_.options.websocket_close_timeout;
    t.idle_timeout = limits_.idle_timeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(limits_.max_message_bytes);
    ws_.set_option(websocket::stream_base::decorator([headers = headers_](websocket::response_type& res) {
      res.erase(http::field::server);
      for (const auto& [name, value] : headers.items())
        if (!iequals(name, "Content-Length") && !iequals(name, "Connection") && !iequals(name, "Upgrade"))
          res.set(name, value);
    }));
    beast::get_lowest_layer(ws_).expires_never();  // the stream's own timeouts apply from here
    auto req = std::make_shared<UpgradeRequest>(std::move(request));
    ws_.async_accept(*req, [self = this->shared_from_this(), req](beast::error_code ec) {
      if (ec) return self->end(1006, "handshake failed");
      self->opened_ = true;
      try {
        self->handler_->on_open(self);
      } catch (const std::exception& e) {
        self->handler_failed(e);
      }
      self->read();
    });
  }

  // WebSocketConnection
  bool send(std::string message, bool binary) override {
    if (closing_.load()) return false;
    std::size_t size = message.size();
    if (queued_.fetch_add(size) + size > limits_.send_queue_bytes) {
      queued_ -= size;
      if (!closing_.exchange(true)) {
        ++host_.dropped_slow;
        log::warn("websocket reader too slow, closing", {{"client_ip", peer_ip_}, {"queued_bytes", queued_.load()}});
        post_close(ws_close::policy, "send queue full: reader too slow");
      }
      return false;
    }
    net::post(ws_.get_executor(), [self = this->shared_from_this(), m = std::move(message), binary]() mutable {
      self->enqueue(std::move(m), binary);
    });
    return true;
  }

  void close(std::uint16_t code, std::string reason) override {
    closing_ = true;
    post_close(code, std::move(reason));
  }

  std::size_t queued_bytes() const override { return queued_.load(); }

  // SessionBase: the server drains.
  void close_if_idle() override {
    closing_ = true;
    post_close(ws_close::going_away, "server shutting down");
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      const auto& peer = ws_.reason();
      return end(close_code_for(ec, peer), std::string(peer.reason.data(), peer.reason.size()));
    }
    ++host_.messages_in;
    auto data = buffer_.cdata();
    std::string_view message(static_cast<const char*>(data.data()), data.size());
    if (handler_ && !ended_) {
      try {
        handler_->on_message(message, ws_.got_binary());
      } catch (const std::exception& e) {
        handler_failed(e);
      }
    }
    buffer_.consume(buffer_.size());
    // Reading on while closing lets Beast see the peer's close frame.
    read();
  }

  void handler_failed(const std::exception& e) {
    log::error("websocket handler failed", {{"client_ip", peer_ip_}, {"error", e.what()}});
    close(ws_close::internal_error, "internal error");
  }

  void enqueue(std::string message, bool binary) {
    if (ended_ || close_started_) {
      queued_ -= message.size();
      return;
    }
    queue_.push_back({std::move(message), binary});
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.binary(queue_.front().binary);
    ws_.async_write(net::buffer(queue_.front().data),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    queued_ -= queue_.front().data.size();
    queue_.pop_front();
    if (ec) return;  // the read side sees the failure and ends the connection
    ++host_.messages_out;
    if (!queue_.empty() && !close_started_) write_next();
  }

  // Close handshake with a hard deadline: a peer that never reads cannot hold the connection.
  void post_close(std::uint16_t code, std::string reason) {
    net::dispatch(ws_.get_executor(),
                  [self = this->shared_from_this(), code, reason = std::move(reason)] { self->start_close(code, reason); });
  }

  void start_close(std::uint16_t code, const std::string& reason) {
    if (ended_ || close_started_) return;
    if (!opened_) return end(code, reason);
    close_started_ = true;
    // Unsent messages are dropped (the one being written, if any, completes or fails first).
    std::size_t keep = writing_ ? 1 : 0;
    while (queue_.size() > keep) {
      queued_ -= queue_.back().data.size();
      queue_.pop_back();
    }
    sent_code_ = code;
    websocket::close_reason why(code);
    std::string_view text = std::string_view(reason).substr(0, 123);  // the most a close frame carries
    why.reason.assign(text.data(), text.size());
    ws_.async_close(why, [self = this->shared_from_this()](beast::error_code) {});
    close_timer_.expires_after(host_.options.websocket_close_timeout + std::chrono::seconds(1));
    close_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the connection ended in time
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  void end(std::uint16_t code, std::string reason) {
    if (ended_) return;
    ended_ = true;
    closing_ = true;
    close_timer_.cancel();
    if (sent_code_ && (code == 1005 || code == 1006)) code = sent_code_;
    if (handler_ && opened_) {
      try {
        handler_->on_close(code, reason);
      } catch (const std::exception& e) {
        log::error("websocket close handler failed", {{"error", e.what()}});
      }
    }
    handler_.reset();  // breaks the handler -> connection -> handler cycle
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  struct Outgoing {
    std::string data;
    bool binary;
  };

  WebSocketHost& host_;
  websocket::stream<Next> ws_;
  std::shared_ptr<WebSocketHandler> handler_;
  WebSocketLimits limits_;
  Headers headers_;
  std::string peer_ip_;
  net::steady_timer close_timer_;
  beast::flat_buffer buffer_;
  std::deque<Outgoing> queue_;     // on the connection's executor only
  std::atomic<std::size_t> queued_{0};  // bytes in queue_ and in posted sends
  std::atomic<bool> closing_{false};    // no more sends accepted
  bool writing_ = false;
  bool opened_ = false;
  bool close_started_ = false;
  bool ended_ = false;
  std::uint16_t sent_code_ = 0;
};

template <class Next>
void start(WebSocketHost& host, Next&& stream, UpgradeRequest&& request, Response&& accepted, std::string peer_ip) {
  auto session = std::make_shared<WebSocketSession<Next>>(host, std::move(stream), std::move(accepted), std::move(peer_ip));
  if (host.remember) host.remember(session);
  session->start(std::move(request));
}

}  // namespace

void start_websocket(WebSocketHost& host, PlainStream&& stream, UpgradeRequest&& request, Response&& accepted,
                     std::string peer_ip) {
  start(host, std::move(stream), std::move(request), std::move(accepted), std::move(peer_ip));
}

void start_websocket(WebSocketHost& host, TlsStream&& stream, UpgradeRequest&& request, Response&& accepted,
                     std::string peer_ip) {
  start(host, std::move(stream), std::move(request), std::move(accepted), std::move(peer_ip));
}

}  // namespace common::detail
