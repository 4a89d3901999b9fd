#pragma once
// Route table and matcher: path templates with {name} segments and a trailing {name*},
// compiled into a segment trie so that a request is matched once, in one walk of its path.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/http.hpp"
#include "common/websocket.hpp"

namespace common {

struct BodyShape;

using Handler = std::function<Response(Request&)>;
// How an asynchronous handler answers, once and from any thread: `answer` runs like a handler
// (what it throws is answered as a handler's error would be).
using Reply = std::function<void(std::function<Response()> answer)>;
using AsyncHandler = std::function<void(Request&, Reply reply)>;

// One line of a service's route table: what it answers and how it is guarded.
struct Route {
  std::string method;             // "GET", "POST", ...
  std::string path;               // template: /v1/nodes/{id}/power/start
  std::string auth = "public";    // authenticator name the service registered ("public" needs none)
  std::string scope;              // what the guard acts on, in the service's terms ("" = nothing)
  std::string permission;         // permission the authenticator checks, if any
  std::string limit = "default";  // rate-limit class; "none" exempts the route
  // false: the service-wide per-IP limit counts only this route's failed authentications; its
  // callers are limited by the route's class, keyed per credential (agents behind one address).
  bool ip_limit = true;
  // What the request may carry; anything else is refused with a 400 naming it, so a misspelt
  // or misremembered name never silently changes what a request means. Default: nothing.
  std::vector<std::string> fields;  // top-level members of a JSON body (or of each object in a
                                    // JSON array body); {"*"} = any (free-form documents)
  std::vector<std::string> query;   // query parameters; {"*"} = any
  Handler handler;
  // Instead of `handler`: a handler that answers later, by calling `reply` exactly once from
  // any thread (an answer another process sends back), so no thread waits meanwhile. What it
  // throws before it returns is answered at once, like a handler's error.
  AsyncHandler async_handler;
  // Renders this route's errors (authentication, limits, input and handler errors) for an API
  // with an error shape of its own, e.g. TAXII error messages; unset = the service's style.
  // The error's status and headers (Retry-After, Allow, ...) apply to what it returns.
  std::function<Response(const ApiError&)> render_error;
  std::size_t body_limit = 0;  // bytes; 0 = the server's default
  bool offload = false;        // run on the worker pool (password hashing, big exports)
  // A WebSocket route (GET with an upgrade) instead of `handler`.
  WebSocketRoute websocket;
  // A streamed-body route instead of `handler`: once the guard passed, opens the sink the
  // body is read into as it arrives (body_limit still applies, 413 mid-stream).
  std::function<std::shared_ptr<BodySink>(Request&)> body_sink;
  // The nested objects its OpenAPI operation closes (decision 0023), checked by Request::json();
  // set by Service::add from the document. Null: only `fields` is checked.
  std::shared_ptr<const BodyShape> body_shape;
};

// The router's answer for one request.
struct RouteMatch {
  const Route* route = nullptr;                             // set when path and method match
  std::vector<std::pair<std::string, std::string>> params;  // decoded path parameters
  std::vector<std::string> allowed;                         // methods for the path (405 Allow)
};

class Router {
 public:
  // Adds a route; throws std::invalid_argument on a malformed template or a duplicate.
  void add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  using Match = RouteMatch;
  // Finds the most specific route (static segments beat parameters, left to right).
  // HEAD matches GET routes. Returns allowed methods when only the method is wrong.
  // Throws ApiError 400 when the path has a malformed percent escape.
  Match match(std::string_view method, std::string_view path) const;

 private:
  // One trie node per distinct template prefix; templates that differ only in parameter
  // names share nodes (/x/{id} and /x/{name} are one path), each route keeps its own names.
  struct Node {
    std::vector<std::pair<std::string, std::uint32_t>> statics;  // segment text -> child node
    std::optional<std::uint32_t> param;                          // {name}: any non-empty segment
    std::vector<std::uint32_t> rest_routes;                      // {name*} ending here
    std::vector<std::uint32_t> routes;                           // templates ending here
  };
  struct Found {
    std::uint32_t route;
    std::uint32_t rank;  // order of specificity: lower is more specific
  };
  void walk(std::uint32_t node, const std::vector<std::string_view>& parts, std::size_t at, std::uint32_t& rank,
            std::vector<Found>& found) const;
  std::vector<Route> routes_;
  struct Params {
    std::vector<std::pair<std::size_t, std::string>> names;  // segment position -> name
    bool rest = false;                                       // the last one takes the remainder
  };
  std::vector<Params> params_;       // per route
  std::vector<Node> nodes_{Node{}};  // nodes_[0] is the root
};

}  // namespace common
