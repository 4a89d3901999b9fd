#pragma once
// Outbound HTTP(S) for calls a service makes to others (agent endpoints, webhooks, provider
// APIs), through libcurl: certificate verification on, bounded time, no redirects followed.
// Blocking: call it from the worker pool or a background job, never from an I/O thread.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common {

struct OutboundRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // whole exchange, connect included
  std::string ca_file;                      // extra trust anchor (PEM), e.g. a self-signed agent
  std::size_t max_response_bytes = 1 << 20;
  // Polled while the call runs (at least once a second): true ends it early with the error
  // "cancelled" (a long-poll must not hold up a shutdown).
  std::function<bool()> cancelled;
  // When set, the body of a 2xx answer goes here piece by piece instead of into
  // OutboundResponse::body (max_response_bytes does not apply; an error answer's body still
  // lands in body); returning false ends the call with "cancelled".
  std::function<bool(std::string_view piece)> on_body;
};

struct OutboundResponse {
  int status = 0;  // 0 when no HTTP answer arrived (see error)
  std::string body;
  std::string error;  // transport failure: "timed out", "connection refused", ...
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, in order
  bool ok() const { return status >= 200 && status < 300; }
};

OutboundResponse send(const OutboundRequest& request);

}  // namespace common
