#pragma once
// Request and response as handlers see them: plain values, no socket or Beast types.
#include <any>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace common {

struct Route;
struct RouteMatch;
struct WebSocketUpgrade;

// Header list with case-insensitive lookup; keeps order and duplicates.
class Headers {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every header of that name with one value.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received: path and query
  std::string path;    // target without the query
  std::string query;   // raw query without '?'
  Headers headers;
  std::string body;
  std::string peer_ip;    // the socket's remote address
  std::string client_ip;  // peer_ip, or what the last trusted proxy saw (TRUST_PROXY)
  bool tls = false;
  std::string request_id;
  std::chrono::steady_clock::time_point received{};

  // Filled by the router.
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  // The router's answer, found once when the header arrived and used for the body limit,
  // the guard and the dispatch; null until then.
  std::shared_ptr<const RouteMatch> match;

  // Filled by the route's authenticator: who is calling, and the key its rate limits use.
  std::any principal;
  std::string rate_key;
  // Set by the authenticator to run this request's handler on the worker pool, as if the
  // route were declared with offload (for callers whose requests block, e.g. on a commit).
  bool offload = false;

  // Sets target and splits it into path and query.
  void set_target(std::string raw_target);
  // Path parameter by name (percent-decoded); empty when absent.
  std::string_view param(std::string_view name) const;
  // First query parameter of that name, percent-decoded (and '+' as space).
  std::optional<std::string> query_param(std::string_view name) const;
  // Body parsed as JSON. Throws ApiError 415 unless Content-Type is application/json, 400 on
  // invalid JSON (message names the position), and requires an object when object_only.
  boost::json::value json(bool object_only = true) const;
  // The body as a JSON object, by value (so no reference into a temporary can dangle).
  boost::json::object json_object() const;
  // Bearer token from Authorization, or nullopt when absent or not a Bearer credential.
  std::optional<std::string_view> bearer_token() const;
};

// A response body produced over time (server-sent events, large exports). The session asks
// for the next piece with next(); the stream answers through `deliver` exactly once per call,
// from any thread and possibly much later; `last` ends the body. Sent with chunked transfer
// encoding (HTTP/1.0 clients: until the connection closes).
class ResponseStream {
 public:
  using Deliver = std::function<void(std::string chunk, bool last)>;
  virtual ~ResponseStream() = default;
  virtual void next(Deliver deliver) = 0;
  // The connection is going away (client gone, server draining): a pending next() must
  // deliver promptly with last = true, and so must every later call.
  virtual void cancel() = 0;
};

struct Response;

// Consumes a request body as it arrives, so an upload of any size costs bounded memory. The
// session hands over one piece at a time and reads the next only once `more` was called:
// calling it later is backpressure. Calls come from the connection's I/O thread.
class BodySink {
 public:
  using More = std::function<void()>;
  virtual ~BodySink() = default;
  // The next piece of the body; it stays valid until `more` is called (from any thread).
  virtual void write(std::string_view piece, More more) = 0;
  // The whole body arrived: the answer. May throw ApiError.
  virtual Response finish() = 0;
  // The body will not complete (over the route's limit, client gone, timeout).
  virtual void abort() = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::shared_ptr<ResponseStream> stream;  // when set, the body comes from it instead
  // Set by the pipeline for a streamed-body route whose guard passed: the session reads the
  // request body into it and sends what its finish() answers instead of this response.
  std::shared_ptr<BodySink> request_body;
  // Set with status 101 by the pipeline for an accepted WebSocket upgrade.
  std::shared_ptr<WebSocketUpgrade> websocket;

  static Response json(const boost::json::value& value, int status = 200);
  static Response text(std::string body, std::string content_type = "text/plain; charset=utf-8", int status = 200);
  static Response empty(int status = 204);
};

// Percent-decoding for paths and queries; nullopt on malformed escapes or NUL bytes.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);
std::string percent_encode(std::string_view in);

}  // namespace common
