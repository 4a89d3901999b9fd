#include "node/node_requests.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/json.hpp>

#include "common/log.hpp"
#include "gitdeploy/git_sync.hpp"
#include "node/processes.hpp"

namespace agent {

namespace json = boost::json;
using agentproto::RequestKind;

namespace {

constexpr int kWorkers = 2;
constexpr std::size_t kMaxQueued = 64;

int signal_of(const std::string& name) {
  try {
    return signal_number(name.empty() ? "SIGKILL" : name);
  } catch (const RuntimeError&) {
    throw RequestRefused("bad_signal", "unknown signal '" + name + "'");
  }
}

ContainerAction action_of(RequestKind kind) {
  switch (kind) {
    case RequestKind::ContainerStart: return ContainerAction::Start;
    case RequestKind::ContainerStop: return ContainerAction::Stop;
    case RequestKind::ContainerRestart: return ContainerAction::Restart;
    default: return ContainerAction::Kill;
  }
}

}  // namespace

json::object container_json(const ContainerInfo& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"image", c.image},
          {"state", c.state},
          {"status", c.status},
          {"instance_id", c.instance_id ? json::value(*c.instance_id) : json::value(nullptr)}};
}

NodeRequests::NodeRequests(InventorySources inventory, Reconciler& reconciler)
    : inventory_(std::move(inventory)), reconciler_(reconciler) {
  for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this](std::stop_token stop) { work(stop); });
}

NodeRequests::~NodeRequests() {
  for (auto& w : workers_) w.request_stop();
  queued_.notify_all();
  workers_.clear();  // joins
}

void NodeRequests::submit(agentproto::TunnelRequest request, Reply reply) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() < kMaxQueued) {
      queue_.emplace_back(std::move(request), std::move(reply));
      queued_.notify_one();
      return;
    }
  }
  reply({request.id, std::nullopt, "busy", "the agent is answering too many requests; try again"});
}

void NodeRequests::work(std::stop_token stop) {
  for (;;) {
    std::unique_lock lock(mutex_);
    if (!queued_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
    auto [request, reply] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    reply(answer(request));
  }
}

agentproto::TunnelResponse NodeRequests::answer(const agentproto::TunnelRequest& request) {
  agentproto::TunnelResponse resp;
  resp.id = request.id;
  try {
    if (request.kind == RequestKind::Inventory) resp.body = inventory(request);
    else if (request.kind == RequestKind::ProcessKill) resp.body = kill_process(request);
    else if (request.kind == RequestKind::GitSync)
      resp.body = git_result_json(sync_repository(inventory_.data_dir / "instances", *request.git));
    else resp.body = act_on_container(request);
  } catch (const RequestRefused& e) {
    resp.error_code = e.code();
    resp.error_message = e.what();
  } catch (const std::invalid_argument& e) {
    resp.error_code = "unknown_section";
    resp.error_message = e.what();
  } catch (const RuntimeError& e) {
    resp.error_code = "engine_failed";
    resp.error_message = e.what();
  } catch (const std::exception& e) {
    resp.error_code = "request_failed";
    resp.error_message = e.what();
  }
  if (!resp.body) common::log::info("node request refused", {{"kind", agentproto::to_string(request.kind)},
                                                             {"code", resp.error_code}, {"reason", resp.error_message}});
  return resp;
}

// On a docker node the containers section is the engine's containers; on a process node, the
// instances the process driver runs.
json::object NodeRequests::inventory(const agentproto::TunnelRequest& request) {
  auto sources = inventory_;
  sources.instance_mains = [this] { return instance_mains(); };
  if (auto* engine = reconciler_.driver().engine())
    sources.containers = [engine] {
      json::array out;
      for (const auto& c : engine->list()) out.push_back(container_json(c));
      return out;
    };
  return collect_inventory(sources, request.sections);
}

std::map<int, std::string> NodeRequests::instance_mains() {
  std::map<int, std::string> mains;
  for (const auto& handle : reconciler_.handles())
    if (auto observed = reconciler_.driver().inspect(handle); observed.pid) mains[*observed.pid] = handle.instance_id;
  return mains;
}

ContainerEngine& NodeRequests::engine() {
  auto* engine = reconciler_.driver().engine();
  if (!engine)
    throw RequestRefused("no_docker", std::string("this node runs the ") + reconciler_.driver().name() +
                                          " driver: it has no container engine");
  return *engine;
}

ContainerInfo NodeRequests::container(const std::string& ref) {
  auto found = engine().find(ref);
  if (!found) throw RequestRefused("container_not_found", "the node's engine has no container '" + ref + "'");
  return *found;
}

// An instance's container follows its desired state: acting on it behind the instance's back
// would be undone by the next reconcile pass (or recorded as a crash), so it is refused.
json::object NodeRequests::act_on_container(const agentproto::TunnelRequest& request) {
  auto c = container(request.container_id);
  if (c.instance_id)
    throw RequestRefused("instance_container", "container '" + request.container_id + "' runs instance " +
                                                   *c.instance_id + ": use the instance's power actions");
  int signal = request.kind == RequestKind::ContainerKill ? signal_of(request.signal) : 0;
  std::optional<std::chrono::seconds> timeout;
  if (request.timeout_s) timeout = std::chrono::seconds(*request.timeout_s);
  auto after = engine().act(c, action_of(request.kind), timeout, signal);
  common::log::info("container action", {{"kind", agentproto::to_string(request.kind)}, {"container", c.id}});
  return container_json(after);
}

// The pid is checked here, on the node, against what the agent itself runs: the API can widen
// the scope only by sending scope "any", which it does for callers holding nodes.terminal.
json::object NodeRequests::kill_process(const agentproto::TunnelRequest& request) {
  int pid = static_cast<int>(*request.pid);
  int signal = signal_of(request.signal);
  if (pid <= 1 || pid == ::getpid())
    throw RequestRefused("protected_process", "pid " + std::to_string(pid) + " is the agent or the node's init");
  auto owner = owning_instance(inventory_.proc_root, pid, instance_mains());
  if (!owner && ::kill(pid, 0) != 0 && errno == ESRCH)
    throw RequestRefused("process_not_found", "no process " + std::to_string(pid) + " on this node");
  if (!owner && request.scope != agentproto::ProcessScope::Any)
    throw RequestRefused("not_an_instance_process", "pid " + std::to_string(pid) +
                                                        " is not a process of this node's instances");
  if (::kill(pid, signal) != 0) {
    if (errno == ESRCH) throw RequestRefused("process_not_found", "no process " + std::to_string(pid) + " on this node");
    throw RequestRefused("kill_failed", "kill " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  common::log::info("process killed", {{"pid", pid}, {"signal", signal}, {"instance", owner.value_or("")}});
  return {{"pid", pid},
          {"signal", request.signal.empty() ? "SIGKILL" : request.signal},
          {"instance_id", owner ? json::value(*owner) : json::value(nullptr)}};
}

std::pair<ContainerInfo, std::unique_ptr<Console>> NodeRequests::container_logs(const agentproto::OpenChannel& open) {
  auto c = container(open.container_id);
  auto output = engine().logs(c, open.tail, open.follow);
  return {std::move(c), std::move(output)};
}

}  // namespace agent
