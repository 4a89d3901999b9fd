#include "runtime/docker_containers.hpp"

#include <boost/json.hpp>

#include "runtime/docker_driver.hpp"

namespace agent {

namespace json = boost::json;

namespace {

std::string text_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::object* object_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string failure(const char* what, const DockerReply& reply) {
  std::string message = reply.body.substr(0, 200);
  json::error_code ec;
  if (auto v = json::parse(reply.body, ec); !ec && v.is_object()) message = text_at(v.as_object(), "message");
  return std::string(what) + ": the engine answered " + std::to_string(reply.status) + ": " + message;
}

}  // namespace

// The list's entries carry Names, Image, State (a word) and Status; an inspect carries Name,
// Config.Image and a State object. Names come with a leading '/'.
ContainerInfo container_info(const json::object& c) {
  ContainerInfo info;
  info.id = text_at(c, "Id");
  info.name = text_at(c, "Name");
  if (const auto* names = c.if_contains("Names"); names && names->is_array() && !names->as_array().empty() &&
                                                   names->as_array().front().is_string())
    info.name = std::string(names->as_array().front().as_string());
  if (info.name.starts_with('/')) info.name.erase(0, 1);
  const auto* config = object_at(c, "Config");
  info.image = config ? text_at(*config, "Image") : text_at(c, "Image");
  const json::object* labels = config ? object_at(*config, "Labels") : object_at(c, "Labels");
  if (const auto* state = object_at(c, "State")) {
    info.state = text_at(*state, "Status");
  } else {
    info.state = text_at(c, "State");
    info.status = text_at(c, "Status");
  }
  if (labels)
    if (auto instance = text_at(*labels, kInstanceLabel); !instance.empty()) info.instance_id = instance;
  return info;
}

std::vector<ContainerInfo> DockerContainers::list() {
  auto reply = api_.call("GET", "/containers/json?all=1");
  if (reply.status != 200) throw RuntimeError(failure("list containers", reply));
  std::vector<ContainerInfo> out;
  json::error_code ec;
  auto parsed = json::parse(reply.body, ec);
  if (ec || !parsed.is_array()) throw RuntimeError("list containers: not a JSON array from the engine");
  for (const auto& c : parsed.as_array())
    if (c.is_object()) out.push_back(container_info(c.as_object()));
  return out;
}

std::optional<ContainerInfo> DockerContainers::find(const std::string& ref) {
  auto reply = api_.call("GET", "/containers/" + ref + "/json");
  if (reply.status == 404) return std::nullopt;
  if (reply.status != 200) throw RuntimeError(failure("inspect container", reply));
  json::error_code ec;
  auto parsed = json::parse(reply.body, ec);
  if (ec || !parsed.is_object()) throw RuntimeError("inspect container: not a JSON object from the engine");
  return container_info(parsed.as_object());
}

ContainerInfo DockerContainers::act(const ContainerInfo& c, ContainerAction action,
                                    std::optional<std::chrono::seconds> timeout, int signal) {
  std::string grace = timeout ? "?t=" + std::to_string(timeout->count()) : "";
  std::string target = "/containers/" + c.id, what;
  switch (action) {
    case ContainerAction::Start:
      target += "/start", what = "start container";
      break;
    case ContainerAction::Stop:
      target += "/stop" + grace, what = "stop container";
      break;
    case ContainerAction::Restart:
      target += "/restart" + grace, what = "restart container";
      break;
    case ContainerAction::Kill:
      target += "/kill?signal=" + std::to_string(signal), what = "kill container";
      break;
  }
  // The engine waits out the grace period before it answers a stop or restart.
  auto budget = std::chrono::seconds(30) + timeout.value_or(std::chrono::seconds(10));
  auto reply = api_.call("POST", target, {}, budget);
  // 304: already started (start) or already stopped (stop): done either way.
  if (reply.status >= 300 && reply.status != 304) throw RuntimeError(failure(what.c_str(), reply));
  auto after = find(c.id);
  if (!after) throw RuntimeError(what + ": the container is gone");
  return *after;
}

std::unique_ptr<Console> DockerContainers::logs(const ContainerInfo& c, std::optional<std::uint64_t> tail, bool follow) {
  return log_console(api_.stream_logs(c.id, follow, tail), 0);
}

}  // namespace agent
