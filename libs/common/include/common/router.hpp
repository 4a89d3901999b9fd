#pragma once
// Route table and matcher: path templates with {name} segments and a trailing {name*}.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http.hpp"

namespace common {

using Handler = std::function<Response(Request&)>;

// One line of a service's route table: what it answers and how it is guarded.
struct Route {
  std::string method;             // "GET", "POST", ...
  std::string path;               // template: /v1/nodes/{id}/power/start
  std::string auth = "public";    // authenticator name the service registered ("public" needs none)
  std::string permission;         // permission the authenticator checks, if any
  std::string limit = "default";  // rate-limit class; "none" exempts the route
  // false: the service-wide per-IP limit counts only this route's failed authentications; its
  // callers are limited by the route's class, keyed per credential (agents behind one address).
  bool ip_limit = true;
  Handler handler;
  std::size_t body_limit = 0;  // bytes; 0 = the server's default
  bool offload = false;        // run on the worker pool (password hashing, big exports)
};

class Router {
 public:
  // Adds a route; throws std::invalid_argument on a malformed template or a duplicate.
  void add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  struct Match {
    const Route* route = nullptr;                             // set when path and method match
    std::vector<std::pair<std::string, std::string>> params;  // decoded path parameters
    std::vector<std::string> allowed;                         // methods for the path (405 Allow)
  };
  // Finds the most specific route (static segments beat parameters, left to right).
  // HEAD matches GET routes. Returns allowed methods when only the method is wrong.
  // Throws ApiError 400 when the path has a malformed percent escape.
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    std::string text;
    bool param = false;
    bool rest = false;  // {name*}: matches the remaining segments
  };
  struct Compiled {
    std::vector<Segment> segments;
  };
  // Same template apart from parameter names: /x/{id} and /x/{name} are one path.
  static bool same_shape(const std::vector<Segment>& a, const std::vector<Segment>& b);
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

}  // namespace common
