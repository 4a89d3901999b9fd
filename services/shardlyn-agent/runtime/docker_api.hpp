#pragma once
// A small Docker Engine API client: HTTP/1.1 over the unix socket, one connection per call
// (and one kept open per attached stream). Requests are bounded in time.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/unix_socket.hpp"

namespace agent {

struct DockerReply {
  int status = 0;
  std::string body;
};

// The byte stream left on a connection after the engine answered an attach or a followed
// log request (multiplexed frames, see docker_stream.hpp).
struct DockerStream {
  Fd socket;
  std::string pending;  // bytes already read past the response head
  bool chunked = false; // a followed log answers with chunked transfer encoding
};

class DockerApi {
 public:
  explicit DockerApi(std::string socket_path, std::string version = "v1.41");
  // Throws RuntimeError when the engine cannot be reached or the answer is not HTTP.
  DockerReply call(std::string_view method, const std::string& target, const std::string& json_body = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  bool ping(std::string& why) const;
  // POST /containers/{id}/attach upgraded to a raw stream (stdin and output).
  DockerStream attach(const std::string& container, bool stdin_only) const;
  // GET /containers/{id}/logs: the last `tail` lines (all when absent), then live while `follow`.
  DockerStream stream_logs(const std::string& container, bool follow, std::optional<std::uint64_t> tail = {}) const;

 private:
  Fd connect() const;
  DockerStream open_stream(std::string_view method, const std::string& target, bool upgrade) const;
  std::string socket_path_, version_;
};

// Percent-encodes a query value (filters={"label":[...]}).
std::string query_escape(std::string_view value);

}  // namespace agent
