#include "runtime/docker_api.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "runtime/driver.hpp"

namespace agent {

namespace http = boost::beast::http;

namespace {

// Reads into `buffer` until poll says nothing came within the deadline; false on timeout.
bool read_some(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline, bool& eof) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r < 0 && errno == EINTR) return true;
  if (r <= 0) return false;
  char chunk[16384];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) eof = true;
  buffer.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::string request_text(std::string_view method, const std::string& target, const std::string& body, bool upgrade) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "shardlyn-agent");
  if (upgrade) {
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "tcp");
  }
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  std::ostringstream out;
  out << req;
  return out.str();
}

// Feeds `buffer` to the parser until `done` holds; leaves unparsed bytes in buffer.
template <class Parser, class Done>
void parse_until(Parser& parser, int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline,
                 Done done, const std::string& what) {
  bool eof = false;
  while (!done()) {
    if (!buffer.empty()) {
      boost::system::error_code ec;
      auto used = parser.put(boost::asio::buffer(buffer), ec);
      buffer.erase(0, used);
      if (ec && ec != http::error::need_more) throw RuntimeError(what + ": bad answer from the engine: " + ec.message());
      if (done()) break;
      if (used > 0 && !ec) continue;
    }
    if (eof) {
      boost::system::error_code ec;
      parser.put_eof(ec);
      if (ec || !done()) throw RuntimeError(what + ": the engine closed the connection");
      break;
    }
    if (!read_some(fd, buffer, deadline, eof)) throw RuntimeError(what + ": the engine did not answer in time");
  }
}

}  // namespace

std::string query_escape(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
}

DockerApi::DockerApi(std::string socket_path, std::string version)
    : socket_path_(std::move(socket_path)), version_(std::move(version)) {}

Fd DockerApi::connect() const {
  std::filesystem::path path(socket_path_);
  Fd sock = connect_unix(path.parent_path(), path.filename().string());
  if (!sock) throw RuntimeError("cannot connect to the Docker engine at unix://" + socket_path_ + ": " + std::strerror(errno));
  return sock;
}

DockerReply DockerApi::call(std::string_view method, const std::string& target, const std::string& json_body,
                            std::chrono::milliseconds timeout) const {
  auto what = std::string(method) + " " + target;
  Fd sock = connect();
  if (!write_all(sock.get(), request_text(method, "/" + version_ + target, json_body, false)))
    throw RuntimeError(what + ": the engine closed the connection");
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  std::string buffer;
  parse_until(parser, sock.get(), buffer, std::chrono::steady_clock::now() + timeout, [&] { return parser.is_done(); },
              what);
  return {static_cast<int>(parser.get().result_int()), parser.get().body()};
}

bool DockerApi::ping(std::string& why) const {
  try {
    auto reply = call("GET", "/_ping", {}, std::chrono::seconds(3));
    if (reply.status == 200) return true;
    why = "GET /_ping answered " + std::to_string(reply.status);
  } catch (const RuntimeError& e) {
    why = e.what();
  }
  return false;
}

DockerStream DockerApi::open_stream(std::string_view method, const std::string& target, bool upgrade) const {
  auto what = std::string(method) + " " + target;
  DockerStream stream{connect(), {}, false};
  if (!write_all(stream.socket.get(), request_text(method, "/" + version_ + target, {}, upgrade)))
    throw RuntimeError(what + ": the engine closed the connection");
  http::response_parser<http::empty_body> parser;
  parser.eager(false);  // stop after the head: what follows is the stream
  parse_until(parser, stream.socket.get(), stream.pending, std::chrono::steady_clock::now() + std::chrono::seconds(30),
              [&] { return parser.is_header_done(); }, what);
  int status = static_cast<int>(parser.get().result_int());
  if (status != 101 && status != 200) throw RuntimeError(what + ": the engine answered " + std::to_string(status));
  stream.chunked = parser.chunked();
  return stream;
}

DockerStream DockerApi::attach(const std::string& container, bool stdin_only) const {
  std::string streams = stdin_only ? "stdin=1" : "stdin=1&stdout=1&stderr=1";
  return open_stream("POST", "/containers/" + container + "/attach?stream=1&" + streams, true);
}

DockerStream DockerApi::stream_logs(const std::string& container, bool follow, std::optional<std::uint64_t> tail) const {
  std::string query = follow ? "follow=1&stdout=1&stderr=1" : "stdout=1&stderr=1";
  if (tail) query += "&tail=" + std::to_string(*tail);
  return open_stream("GET", "/containers/" + container + "/logs?" + query, false);
}

}  // namespace agent
