#include "http/route_table.hpp"

#include <utility>

namespace shardlyn {

namespace {

common::Route row(std::string method, std::string path, std::string permission, common::Handler handler,
                  RouteOptions o) {
  return {.method = std::move(method),
          .path = std::move(path),
          .permission = std::move(permission),
          .limit = std::move(o.limit),
          .fields = std::move(o.fields),
          .query = std::move(o.query),
          .handler = std::move(handler),
          .body_limit = o.body_limit,
          .offload = o.offload};
}

}  // namespace

common::Route get(std::string path, std::string permission, common::Handler handler, RouteOptions options) {
  return row("GET", std::move(path), std::move(permission), std::move(handler), std::move(options));
}
common::Route post(std::string path, std::string permission, common::Handler handler, RouteOptions options) {
  return row("POST", std::move(path), std::move(permission), std::move(handler), std::move(options));
}
common::Route put(std::string path, std::string permission, common::Handler handler, RouteOptions options) {
  return row("PUT", std::move(path), std::move(permission), std::move(handler), std::move(options));
}
common::Route patch(std::string path, std::string permission, common::Handler handler, RouteOptions options) {
  return row("PATCH", std::move(path), std::move(permission), std::move(handler), std::move(options));
}
common::Route del(std::string path, std::string permission, common::Handler handler, RouteOptions options) {
  return row("DELETE", std::move(path), std::move(permission), std::move(handler), std::move(options));
}

common::Route get(std::string path, std::string permission, common::AsyncHandler handler, RouteOptions options) {
  auto route = row("GET", std::move(path), std::move(permission), {}, std::move(options));
  route.async_handler = std::move(handler);
  return route;
}
common::Route post(std::string path, std::string permission, common::AsyncHandler handler, RouteOptions options) {
  auto route = row("POST", std::move(path), std::move(permission), {}, std::move(options));
  route.async_handler = std::move(handler);
  return route;
}

common::Route websocket(std::string path, std::string permission, common::WebSocketRoute socket,
                        RouteOptions options) {
  auto route = row("GET", std::move(path), std::move(permission), {}, std::move(options));
  route.websocket = std::move(socket);
  return route;
}

Routes group(std::string_view prefix, Guard guard, Routes rows) {
  for (auto& r : rows) {
    r.path = std::string(prefix) + r.path;
    r.auth = auth_name(guard.auth);
    r.scope = scope_name(guard.org);
  }
  return rows;
}

Routes join(std::vector<Routes> groups) {
  Routes all;
  for (auto& g : groups)
    for (auto& r : g) all.push_back(std::move(r));
  return all;
}

}  // namespace shardlyn
