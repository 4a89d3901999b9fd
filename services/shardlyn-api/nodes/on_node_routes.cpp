// Inventory, the terminal, Container Management and process kills: each request is answered
// when the node's agent answers (asynchronous handlers: no thread waits), at the latest at
// the request's timeout.
#include "nodes/on_node_routes.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "common/error.hpp"
#include "common/input.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::RequestKind;

namespace {

std::string node_id(const common::Request& req) { return std::string(req.param("id")); }
std::string container_id(const common::Request& req) { return std::string(req.param("containerId")); }

json::object optional_body(const common::Request& req) { return req.body.empty() ? json::object{} : req.json_object(); }

// The signal a kill names (SIGKILL when none).
std::string requested_signal(const json::object& body) {
  auto signal = common::input::optional_text(body, "signal", {.min = 1, .max = 16});
  if (signal && !agentproto::known_signal(*signal))
    throw common::ApiError::validation("'signal': one of SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGKILL, SIGUSR1, SIGUSR2, "
                                       "SIGTERM, SIGCONT, SIGSTOP, SIGWINCH");
  return signal.value_or("SIGKILL");
}

std::optional<std::uint32_t> requested_timeout(const json::object& body) {
  auto t = common::input::optional_integer(body, "timeout_s", 0, 300);
  if (!t) return std::nullopt;
  return static_cast<std::uint32_t>(*t);
}

// The agent's answer as the JSON response `shape` makes of its body (an error: its status).
template <class Shape>
AgentRequests::Answer json_reply(common::Reply reply, Shape shape) {
  return [reply = std::move(reply), shape = std::move(shape)](agentproto::TunnelResponse response) {
    reply([&] { return common::Response::json(shape(AgentRequests::body_of(std::move(response)))); });
  };
}

AgentRequests::Answer body_reply(common::Reply reply) {
  return json_reply(std::move(reply), [](json::object body) { return body; });
}

// GET /v1/nodes/{id}/inventory and /inventory/<section>: the section is the path's last segment.
void show_inventory(OnNodeArea& area, common::Request& req, common::Reply reply) {
  std::string_view path = req.route->path;
  std::string section;
  if (!path.ends_with("/inventory")) section = std::string(path.substr(path.rfind('/') + 1));
  auto shape = [node = node_id(req), section](json::object inventory) {
    if (section.empty()) return inventory;
    return json::object{{"node_id", node}, {section, inventory.at(section)}};
  };
  area.inventory.collect(caller_of(req), node_id(req), section, json_reply(std::move(reply), shape));
}

void container_action(OnNodeArea& area, common::Request& req, common::Reply reply, ContainerCommand command) {
  area.containers.act(caller_of(req), node_id(req), container_id(req), command, body_reply(std::move(reply)));
}

void start_container(OnNodeArea& area, common::Request& req, common::Reply reply) {
  container_action(area, req, std::move(reply), {RequestKind::ContainerStart, {}, {}});
}

void stop_container(OnNodeArea& area, common::Request& req, common::Reply reply) {
  container_action(area, req, std::move(reply), {RequestKind::ContainerStop, requested_timeout(optional_body(req)), {}});
}

void restart_container(OnNodeArea& area, common::Request& req, common::Reply reply) {
  container_action(area, req, std::move(reply),
                   {RequestKind::ContainerRestart, requested_timeout(optional_body(req)), {}});
}

void kill_container(OnNodeArea& area, common::Request& req, common::Reply reply) {
  container_action(area, req, std::move(reply), {RequestKind::ContainerKill, {}, requested_signal(optional_body(req))});
}

// GET /v1/nodes/{id}/containers/{containerId}/logs?tail=&follow=: text, one line per output line.
void container_logs(OnNodeArea& area, common::Request& req, common::Reply reply) {
  auto tail = common::input::query_integer(req, "tail", 0, 100000);
  auto follow = common::input::query_one_of(req, "follow", {"true", "false"}).value_or("false") == "true";
  std::optional<std::uint64_t> lines;
  if (tail) lines = static_cast<std::uint64_t>(*tail);
  area.containers.logs(caller_of(req), node_id(req), container_id(req), lines, follow,
                       [reply = std::move(reply)](auto opened) {
                         reply([&] {
                           common::Response out;
                           out.headers.set("Content-Type", "text/plain; charset=utf-8");
                           out.stream = opened();
                           return out;
                         });
                       });
}

void kill_process(OnNodeArea& area, common::Request& req, common::Reply reply) {
  std::int64_t pid = 0;
  auto text = req.param("pid");
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc{} || end != text.data() + text.size() || pid < 1 || pid > 4194304)
    throw common::ApiError::validation("'pid': a process id from 1 to 4194304");
  auto signal = requested_signal(optional_body(req));
  area.containers.kill_process(caller_of(req), node_id(req), static_cast<std::uint64_t>(pid), signal,
                               body_reply(std::move(reply)));
}

common::WebSocketRoute terminal(OnNodeArea& area) {
  return {.open = [&area](common::Request& req) { return area.terminals.open(req); }};
}

}  // namespace

Routes on_node_routes(OnNodeArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  const RouteOptions timed{.fields = {"timeout_s"}};
  const RouteOptions signalled{.fields = {"signal"}};
  return group("/v1/nodes", member,
               {
                   get("/{id}/inventory", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/system", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/network", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/disks", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/users", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/processes", "nodes.read", bind(area, show_inventory)),
                   get("/{id}/inventory/containers", "nodes.read", bind(area, show_inventory)),
                   websocket("/{id}/terminal", "nodes.terminal", terminal(area), {.query = {"cols", "rows"}}),
                   get("/{id}/containers/{containerId}/logs", "nodes.terminal", bind(area, container_logs),
                       {.query = {"tail", "follow"}}),
                   post("/{id}/containers/{containerId}/start", "nodes.terminal", bind(area, start_container)),
                   post("/{id}/containers/{containerId}/stop", "nodes.terminal", bind(area, stop_container), timed),
                   post("/{id}/containers/{containerId}/restart", "nodes.terminal", bind(area, restart_container),
                        timed),
                   post("/{id}/containers/{containerId}/kill", "nodes.terminal", bind(area, kill_container), signalled),
                   post("/{id}/processes/{pid}/kill", "instances.power", bind(area, kill_process), signalled),
               });
}

}  // namespace shardlyn
