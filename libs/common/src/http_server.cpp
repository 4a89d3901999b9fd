// HTTP/1.1 sessions on Beast: one session type for plain TCP and TLS, explicit limits and
// timeouts, requests on one connection answered strictly in order, graceful drain.
#include "common/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/error.hpp"
#include "common/log.hpp"
#include "websocket_session.hpp"

namespace common {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// "Sun, 06 Nov 1994 08:49:37 GMT", recomputed at most once a second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

std::string address_text(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

// Status and message for a parse failure; 0 means "just close" (the peer went away).
std::pair<int, const char*> classify(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return {431, "request header fields too large"};
  if (ec == http::error::body_limit) return {413, "request body too large"};
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return {0, nullptr};
  // Any other parser error means the bytes were not HTTP/1.1 (request line, header, chunking).
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) return {400, "malformed request"};
  return {0, nullptr};  // timeouts, resets, cancellation: the connection is just closed
}

// Follows the bytes of a request's header section as they arrive, to find where it ends and
// whether a header line was folded (obs-fold: a line starting with SP or HTAB), which Beast
// would join silently; RFC 9112 5.2 lets a server reject it, and a proxy in front may read the
// fold differently. Leading empty lines are skipped (RFC 9112 2.2).
struct HeaderScan {
  std::size_t limit = 0;
  std::size_t seen = 0;
  bool started = false;
  bool line_start = false;
  bool folded = false;
  bool too_large = false;
  bool complete = false;

  // Takes the next byte; true once the scan has its answer.
  bool feed(char c) {
    if (++seen > limit) return too_large = true;
    if (!started) {
      if (c == '\r' || c == '\n') return false;
      started = true;
    }
    if (c == '\r') return false;
    if (c == '\n') {
      if (line_start) return complete = true;
      line_start = true;
      return false;
    }
    if (line_start && (c == ' ' || c == '\t')) return folded = true;
    line_start = false;
    return false;
  }
};

}  // namespace

using detail::SessionBase;

struct HttpServer::Impl {
  Impl(ServerOptions o, RequestSink& s)
      : options(std::move(o)),
        sink(s),
        loops(make_loops(options.io_threads)),
        ioc(*loops.front()),
        control(net::make_strand(ioc)),
        acceptor(control),
        signals(control, SIGINT, SIGTERM),
        workers(options.worker_threads > 0 ? options.worker_threads
                                           : std::max(1u, std::thread::hardware_concurrency())),
        drain_timer(control),
        accept_retry(control),
        websockets(options, connections, draining) {
    websockets.remember = [this](const std::shared_ptr<SessionBase>& s) { remember(s); };
  }

  ServerOptions options;
  RequestSink& sink;
  // Declared before ioc: sessions still queued in ioc when it is destroyed (after a grace
  // period ran out) decrement `connections` from their destructors.
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> draining{false};
  // One event loop per I/O thread, connections spread over them round-robin: a connection's
  // handlers always run on the thread that owns it, with no cross-thread wake-ups.
  std::vector<std::unique_ptr<net::io_context>> loops;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::atomic<std::size_t> next_loop{0};
  net::io_context& ioc;  // loops[0]: also runs the control strand
  // The acceptor, the signal set and the drain timer are used from handlers on several I/O
  // threads (accept loop, signal, stop(), drain polling); one strand serialises them.
  net::strand<net::io_context::executor_type> control;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::thread_pool workers;
  net::steady_timer drain_timer;
  net::steady_timer accept_retry;  // back-off after a failed accept (EMFILE and the like)
  bool accept_failing = false;     // on the control strand only
  std::chrono::steady_clock::time_point drain_deadline{};
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<SessionBase>> sessions;
  detail::WebSocketHost websockets;

  static std::vector<std::unique_ptr<net::io_context>> make_loops(int threads) {
    std::size_t n = threads > 0 ? static_cast<std::size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<net::io_context>> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  void stop_loops() {
    for (auto& loop : loops) loop->stop();
  }

  void remember(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(sessions_mutex);
    if (sessions.size() > 64 && sessions.size() > 2 * connections.load())
      sessions.remove_if([](const auto& w) { return w.expired(); });
    sessions.push_back(s);
  }

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void begin_drain();
  void poll_drain();
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(HttpServer::Impl& server, tcp::socket&& socket, Args&&... args)
      : server_(server), stream_(std::move(socket), std::forward<Args>(args)...), executor_(stream_.get_executor()) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ip_ = ec ? std::string("unknown") : address_text(ep.address());
    ++server_.connections;
  }
  ~Session() override { --server_.connections; }

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->read_header();
      });
    } else {
      read_header();
    }
  }

  void close_if_idle() override {
    net::post(executor_, [self = this->shared_from_this()] {
      if (self->upgraded_) return;  // the WebSocket session drains itself
      if (self->reading_ && !self->body_unread_ && self->buffer_.size() == 0 &&
          !(self->parser_ && self->parser_->got_some()))
        beast::get_lowest_layer(self->stream_).cancel();
      if (self->body_stream_) self->body_stream_->cancel();  // ends the body; the connection then closes
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void read_header() {
    if (server_.draining && buffer_.size() == 0) return shutdown();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    // No body limit yet: Beast checks Content-Length against it while parsing the header,
    // which would apply the default limit to routes that declare a larger one. on_header
    // sets the route's limit before any body byte is read.
    parser_->body_limit(boost::none);
    reading_ = true;
    beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
    scan_ = {.limit = server_.options.max_header_bytes};
    scanned_ = 0;
    scan_header();
  }

  // Reads until the header section is complete (bytes already buffered first, e.g. pipelined
  // requests), then lets Beast parse it from the buffer.
  void scan_header() {
    auto data = buffer_.data();
    const char* bytes = static_cast<const char*>(data.data());
    bool done = false;
    while (!done && scanned_ < data.size()) done = scan_.feed(bytes[scanned_++]);
    if (!done) {
      auto room = std::clamp<std::size_t>(buffer_.capacity() - buffer_.size(), 512, 65536);
      return stream_.async_read_some(buffer_.prepare(room),
                                     [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                                       if (ec) {
                                         self->reading_ = false;
                                         return self->fail(ec);
                                       }
                                       self->buffer_.commit(n);
                                       self->scan_header();
                                     });
    }
    if (scan_.folded || scan_.too_large) {
      reading_ = false;
      if (scan_.folded) return reject(400, "folded header lines are not accepted");
      return reject(431, "request header fields too large");
    }
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    reading_ = false;
    if (ec) return fail(ec);
    ++server_.in_flight;
    counted_ = true;
    auto& msg = parser_->get();
    // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host; never more than one.
    auto hosts = msg.count(http::field::host);
    if (hosts > 1 || (hosts == 0 && msg.version() >= 11)) return reject(400, "missing or duplicate Host header");
    // RFC 9112 6.1/6.3: a request Transfer-Encoding whose final coding is not chunked (or any
    // Transfer-Encoding in HTTP/1.0) leaves the body length unknown: 400 and close, rather than
    // reading the body as the next request (request smuggling).
    if (msg.count(http::field::transfer_encoding) && (!parser_->chunked() || msg.version() < 11))
      return reject(400, "unsupported Transfer-Encoding");
    pending_ = Request{};
    pending_.method = std::string(msg.method_string());
    pending_.set_target(std::string(msg.target()));
    for (const auto& field : msg) pending_.headers.add(std::string(field.name_string()), std::string(field.value()));
    pending_.peer_ip = peer_ip_;
    pending_.client_ip = peer_ip_;
    pending_.tls = kTls;
    Admission admission = server_.sink.admit(pending_);
    if (auto length = parser_->content_length(); length && *length > admission.body_limit)
      return reject(413, "request body too large");
    parser_->body_limit(admission.body_limit);
    if (admission.stream_body && !parser_->is_done()) return start_streamed(admission.body_limit);
    if (parser_->is_done()) return on_body({});
    if (beast::iequals(msg[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, msg.version());
      beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
      return http::async_write(stream_, *cont,
                               [self = this->shared_from_this(), cont](beast::error_code ec2, std::size_t) {
                                 if (ec2) return self->fail(ec2);
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    reading_ = true;
    beast::get_lowest_layer(stream_).expires_after(server_.options.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->reading_ = false;
      self->on_body(ec);
    });
  }

  void on_body(beast::error_code ec) {
    if (ec) return fail(ec);
    auto msg = parser_->release();
    Request req = std::move(pending_);
    req.body = std::move(msg.body());
    req.received = std::chrono::steady_clock::now();
    head_ = msg.method() == http::verb::head;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    upgrade_request_.reset();
    if (beast::iequals(msg[http::field::upgrade], "websocket")) upgrade_request_ = std::move(msg);
    server_.sink.handle(std::move(req), [self = this->shared_from_this()](Response res) {
      // Inline when already on the connection's strand (the usual, non-offloaded case).
      net::dispatch(self->stream_.get_executor(),
                    [self, res = std::move(res)]() mutable { self->write(std::move(res), false); });
    });
  }

  // A streamed-body route: the pipeline sees the header first (guard, rate limits); only
  // when it hands back a sink is the body read, piece by piece, at the sink's pace.
  void start_streamed(std::size_t limit) {
    auto& msg = parser_->get();
    head_ = false;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    expect_continue_ = beast::iequals(msg[http::field::expect], "100-continue");
    piece_parser_.emplace(std::move(*parser_));
    parser_.reset();
    piece_parser_->body_limit(limit);
    body_unread_ = true;
    Request req = std::move(pending_);
    req.received = std::chrono::steady_clock::now();
    server_.sink.handle(std::move(req), [self = this->shared_from_this()](Response res) {
      net::dispatch(self->stream_.get_executor(),
                    [self, res = std::move(res)]() mutable { self->write(std::move(res), false); });
    });
  }

  void read_body_into(std::shared_ptr<BodySink> sink) {
    body_sink_ = std::move(sink);
    if (!expect_continue_) return read_piece();
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code ec, std::size_t) {
      if (ec) return self->end_streamed(ec);
      self->read_piece();
    });
  }

  void read_piece() {
    if (piece_.empty()) piece_.resize(kPieceBytes);
    auto& body = piece_parser_->get().body();
    body.data = piece_.data();
    body.size = piece_.size();
    reading_ = true;
    // Per piece: a slow but steady upload of any size is fine, a stalled one is not.
    beast::get_lowest_layer(stream_).expires_after(server_.options.body_timeout);
    http::async_read(stream_, buffer_, *piece_parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_piece(ec); });
  }

  void on_piece(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return end_streamed(ec);
    std::size_t n = piece_.size() - piece_parser_->get().body().size;
    bool done = piece_parser_->is_done();
    if (n == 0) return done ? finish_streamed() : read_piece();
    body_sink_->write(std::string_view(piece_.data(), n), [self = this->shared_from_this(), done] {
      net::dispatch(self->stream_.get_executor(), [self, done] { done ? self->finish_streamed() : self->read_piece(); });
    });
  }

  void finish_streamed() {
    auto sink = std::move(body_sink_);
    piece_parser_.reset();
    body_unread_ = false;
    write(sink->finish(), false);
  }

  // The body did not complete: over the limit (413 now, the rest unread), or the client left.
  void end_streamed(beast::error_code ec) {
    if (body_sink_) body_sink_->abort();
    body_sink_.reset();
    piece_parser_.reset();
    fail(ec);
  }

  // Answers a request that cannot be read further, then closes.
  void reject(int status, const char* message) {
    if (!counted_) {
      ++server_.in_flight;
      counted_ = true;
    }
    if (parser_ && parser_->is_header_done())
      version_ = parser_->get().version();
    else if (!body_unread_)  // a streamed body keeps the version of its request
      version_ = 11;
    head_ = false;
    write(server_.sink.protocol_error(status, message, peer_ip_, kTls), true);
  }

  void fail(beast::error_code ec) {
    auto [status, message] = classify(ec);
    if (status != 0) return reject(status, message);
    finish_request();
    shutdown();
  }

  void write(Response res, bool close) {
    if (res.request_body) {
      if (body_unread_) return read_body_into(std::move(res.request_body));
      return write(res.request_body->finish(), close);  // the body was empty
    }
    if (res.websocket && res.status == 101 && upgrade_request_) return upgrade(std::move(res));
    bool streamed = res.stream && res.status >= 200 && res.status != 204 && res.status != 304;
    if (streamed) return write_stream(std::move(res));
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(version_);
    out->result(static_cast<unsigned>(res.status));
    for (const auto& [name, value] : res.headers.items()) out->insert(name, value);
    out->set(http::field::date, http_date());
    bool no_body = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
    if (!no_body) {
      out->body() = std::move(res.body);
      out->prepare_payload();
      if (head_) out->body().clear();  // keeps the Content-Length of the GET answer
    }
    // A streamed body the route refused to read stays unread: the connection cannot go on.
    close_ = close || !keep_alive_ || server_.draining || body_unread_;
    out->keep_alive(!close_);
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    http::async_write(stream_, *out, [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
      self->finish_request();
      if (ec || self->close_) return self->shutdown();
      self->read_header();
    });
  }

  // The pipeline accepted a WebSocket upgrade: within the caps, the connection becomes a
  // WebSocket session (this HTTP session ends here).
  void upgrade(Response res) {
    auto reserved = server_.websockets.reserve(peer_ip_);
    if (reserved != detail::WebSocketHost::Reserve::Ok) {
      bool per_ip = reserved == detail::WebSocketHost::Reserve::TooManyFromIp;
      upgrade_request_.reset();
      return write(server_.sink.protocol_error(per_ip ? 429 : 503,
                                               per_ip ? "too many WebSocket connections from this address"
                                                      : "too many WebSocket connections",
                                               peer_ip_, kTls),
                   true);
    }
    finish_request();
    upgraded_ = true;
    detail::start_websocket(server_.websockets, std::move(stream_), std::move(*upgrade_request_), std::move(res),
                            peer_ip_);
  }

  // Header now, then the body as the stream produces it (chunked; HTTP/1.0: raw until close).
  void write_stream(Response res) {
    body_stream_ = std::move(res.stream);
    auto header = std::make_shared<http::response<http::empty_body>>();
    header->version(version_);
    header->result(static_cast<unsigned>(res.status));
    for (const auto& [name, value] : res.headers.items()) header->insert(name, value);
    header->set(http::field::date, http_date());
    legacy_stream_ = version_ < 11;
    close_ = legacy_stream_ || !keep_alive_ || server_.draining;
    header->keep_alive(!close_);
    if (!legacy_stream_) header->chunked(true);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    http::async_write_header(stream_, *serializer,
                             [self = this->shared_from_this(), header, serializer](beast::error_code ec, std::size_t) {
                               if (ec) return self->abort_stream();
                               if (self->head_) {
                                 self->body_stream_->cancel();
                                 return self->end_stream();
                               }
                               self->pull();
                             });
  }

  void pull() {
    // Waiting for the producer is not a slow client: no deadline until there is data to send.
    beast::get_lowest_layer(stream_).expires_never();
    body_stream_->next([self = this->shared_from_this()](std::string chunk, bool last) {
      net::post(self->stream_.get_executor(),
                [self, chunk = std::move(chunk), last]() mutable { self->send_chunk(std::move(chunk), last); });
    });
  }

  void send_chunk(std::string chunk, bool last) {
    if (!body_stream_) return;
    if (chunk.empty()) {
      if (last) return end_stream();
      return pull();
    }
    auto data = std::make_shared<std::string>(std::move(chunk));
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    auto after = [self = this->shared_from_this(), data, last](beast::error_code ec, std::size_t) {
      if (ec) return self->abort_stream();
      if (last) return self->end_stream();
      self->pull();
    };
    if (legacy_stream_)
      net::async_write(stream_, net::buffer(*data), std::move(after));
    else
      net::async_write(stream_, http::make_chunk(net::buffer(*data)), std::move(after));
  }

  void end_stream() {
    body_stream_.reset();
    if (legacy_stream_ || head_) {
      finish_request();
      return close_ || legacy_stream_ ? shutdown() : read_header();
    }
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    net::async_write(stream_, http::make_chunk_last(),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->finish_request();
                       if (ec || self->close_ || self->server_.draining) return self->shutdown();
                       self->read_header();
                     });
  }

  // The client went away or a write failed: tell the producer and drop the connection.
  void abort_stream() {
    if (body_stream_) body_stream_->cancel();
    body_stream_.reset();
    finish_request();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void finish_request() {
    if (counted_) {
      --server_.in_flight;
      counted_ = false;
    }
  }

  void shutdown() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      // Lingering close: drain what the client is still sending (bounded in time and bytes)
      // so that closing with unread data does not reset the connection before the client
      // has read our answer (e.g. a 413 sent while the body is still arriving).
      stream_.expires_after(std::chrono::seconds(2));
      linger();
    }
  }

  void linger() {
    if (lingered_ > kMaxLingerBytes) return;
    auto buf = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(net::buffer(*buf),
                            [self = this->shared_from_this(), buf](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (!ec) self->linger();
                            });
  }

  HttpServer::Impl& server_;
  Stream stream_;
  net::any_io_executor executor_;  // kept: stream_ is moved out by a WebSocket upgrade
  bool upgraded_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HeaderScan scan_;
  std::size_t scanned_ = 0;  // bytes of buffer_ the scan has seen
  std::string peer_ip_;
  bool reading_ = false;
  bool counted_ = false;
  bool head_ = false;
  bool keep_alive_ = true;
  bool close_ = false;
  unsigned version_ = 11;
  std::size_t lingered_ = 0;
  Request pending_;  // built from the header; the body joins it when read
  std::optional<http::request<http::string_body>> upgrade_request_;  // kept for a WebSocket accept
  // A streamed request body: read piece by piece into the route's sink.
  std::optional<http::request_parser<http::buffer_body>> piece_parser_;
  std::shared_ptr<BodySink> body_sink_;
  std::vector<char> piece_;
  bool body_unread_ = false;
  bool expect_continue_ = false;
  static constexpr std::size_t kPieceBytes = 64 * 1024;
  std::shared_ptr<ResponseStream> body_stream_;  // set while a streamed body is being sent
  bool legacy_stream_ = false;                   // HTTP/1.0: no chunking, body ends at close
  static constexpr std::size_t kMaxLingerBytes = 4 * 1024 * 1024;
};

void HttpServer::Impl::accept() {
  auto& loop = *loops[next_loop++ % loops.size()];
  acceptor.async_accept(loop.get_executor(),
                        [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of file descriptors (EMFILE/ENFILE), buffers and the like: the pending connection
    // stays queued and accepting again at once fails the same way, spinning a core. Back off.
    if (!accept_failing) log::warn("accept failed; retrying every 100 ms", {{"error", ec.message()}});
    accept_failing = true;
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) accept();
    });
    return;
  }
  if (accept_failing) log::info("accepting connections again");
  accept_failing = false;
  if (connections.load() >= options.max_connections || draining) {
    beast::error_code ignored;
    socket.close(ignored);  // over the cap: refuse at once rather than queue
  } else {
    socket.set_option(tcp::no_delay(true), ec);
    if (tls) {
      auto s = std::make_shared<Session<ssl::stream<beast::tcp_stream>>>(*this, std::move(socket), *tls);
      remember(s);
      s->start();
    } else {
      auto s = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket));
      remember(s);
      s->start();
    }
  }
  accept();
}

void HttpServer::Impl::begin_drain() {
  if (draining.exchange(true)) return;
  log::info("shutting down: no new connections, finishing in-flight requests",
            {{"in_flight", in_flight.load()}, {"connections", connections.load()}});
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  signals.cancel(ignored);
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& w : sessions)
      if (auto s = w.lock()) s->close_if_idle();
  }
  drain_deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
  poll_drain();
}

void HttpServer::Impl::poll_drain() {
  if ((in_flight.load() == 0 && connections.load() == 0) || std::chrono::steady_clock::now() >= drain_deadline) {
    if (in_flight.load() != 0)
      log::warn("shutdown grace period over, abandoning requests", {{"in_flight", in_flight.load()}});
    stop_loops();
    return;
  }
  // Connections that became idle since the last look are closed too.
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& w : sessions)
      if (auto s = w.lock()) s->close_if_idle();
  }
  drain_timer.expires_after(std::chrono::milliseconds(25));
  drain_timer.async_wait([this](beast::error_code ec) {
    if (!ec) poll_drain();
  });
}

HttpServer::HttpServer(ServerOptions options, RequestSink& sink)
    : impl_(std::make_unique<Impl>(std::move(options), sink)) {
  if (!impl_->options.tls_certificate_pem.empty()) {
    impl_->tls.emplace(ssl::context::tls_server);
    auto& ctx = *impl_->tls;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    ctx.use_certificate_chain(net::buffer(impl_->options.tls_certificate_pem));
    ctx.use_private_key(net::buffer(impl_->options.tls_private_key_pem), ssl::context::pem);
  }
}

HttpServer::~HttpServer() {
  impl_->workers.stop();
  impl_->workers.join();
}

std::uint16_t HttpServer::listen() {
  auto& a = impl_->acceptor;
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + impl_->options.host + "'");
  tcp::endpoint ep(address, impl_->options.port);
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                             ": " + ec.message());
  a.listen(net::socket_base::max_listen_connections);
  return a.local_endpoint().port();
}

void HttpServer::run() {
  impl_->signals.async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    log::info("signal received", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    impl_->begin_drain();
  });
  impl_->accept();
  for (auto& loop : impl_->loops) impl_->keep_running.emplace_back(loop->get_executor());
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < impl_->loops.size(); ++i) pool.emplace_back([this, i] { impl_->loops[i]->run(); });
  impl_->ioc.run();
  for (auto& t : pool) t.join();
}

void HttpServer::stop() {
  net::post(impl_->control, [this] { impl_->begin_drain(); });
}

void HttpServer::post_work(std::function<void()> work) { net::post(impl_->workers, std::move(work)); }

std::size_t HttpServer::open_connections() const { return impl_->connections.load(); }
WebSocketStats HttpServer::websocket_stats() const { return impl_->websockets.stats(); }
std::size_t HttpServer::in_flight() const { return impl_->in_flight.load(); }
bool HttpServer::tls() const { return impl_->tls.has_value(); }

}  // namespace common
