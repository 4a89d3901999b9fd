#pragma once
// How shardlyn-api writes its route tables: named handlers, one row per route in the order of
// the API reference, and groups that state a prefix with its guard once.
//
//   const Guard member{Auth::Member, OrgScope::Current};
//   return group("/v1/settings", member, {
//       get("", "settings.read", bind(area, show_settings)),
//       put("", "settings.update", bind(area, update_settings), {.fields = {"name"}}),
//   });
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/router.hpp"
#include "http/access.hpp"

namespace shardlyn {

using Routes = std::vector<common::Route>;

// A route's guard: which callers it admits and the organisation it acts on.
struct Guard {
  Auth auth = Auth::Public;
  OrgScope org = OrgScope::None;
};

// What a row may declare beyond method, path, permission and handler.
struct RouteOptions {
  std::string limit = "default";    // rate-limit class
  std::vector<std::string> fields;  // accepted body members
  std::vector<std::string> query;   // accepted query parameters
  bool offload = false;             // run on the worker pool (password hashing)
  std::size_t body_limit = 0;
};

common::Route get(std::string path, std::string permission, common::Handler handler, RouteOptions options = {});
common::Route post(std::string path, std::string permission, common::Handler handler, RouteOptions options = {});
common::Route put(std::string path, std::string permission, common::Handler handler, RouteOptions options = {});
common::Route patch(std::string path, std::string permission, common::Handler handler, RouteOptions options = {});
common::Route del(std::string path, std::string permission, common::Handler handler, RouteOptions options = {});
// Rows answered later (Route::async_handler), e.g. by a node's agent: no thread waits meanwhile.
common::Route get(std::string path, std::string permission, common::AsyncHandler handler, RouteOptions options = {});
common::Route post(std::string path, std::string permission, common::AsyncHandler handler, RouteOptions options = {});
// A WebSocket route (GET with an upgrade): `open` makes the handler of each connection.
common::Route websocket(std::string path, std::string permission, common::WebSocketRoute socket,
                        RouteOptions options = {});

// The rows under `prefix`, each guarded by `guard`.
Routes group(std::string_view prefix, Guard guard, Routes rows);
// Groups one after the other, as one table.
Routes join(std::vector<Routes> groups);

// A named handler of an area, given the area's domain objects.
template <class Area>
common::Handler bind(Area& area, common::Response (*handler)(Area&, common::Request&)) {
  return [&area, handler](common::Request& req) { return handler(area, req); };
}

// A named asynchronous handler of an area: void name(Area&, Request&, Reply).
template <class Area>
common::AsyncHandler bind(Area& area, void (*handler)(Area&, common::Request&, common::Reply)) {
  return [&area, handler](common::Request& req, common::Reply reply) { handler(area, req, std::move(reply)); };
}

}  // namespace shardlyn
