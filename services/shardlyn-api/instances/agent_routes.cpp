// The agent's desired-state long-poll and its event batches (X-Agent-Token).
#include <mutex>

#include <boost/json.hpp>

#include "agentproto/json.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "common/log.hpp"
#include "instances/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::chrono::seconds kLongPoll{30};

common::Response desired_response(Instances& instances, const std::string& node_id, std::uint64_t version) {
  auto desired = instances.desired(node_id, version);
  auto out = common::Response::text(agentproto::to_text(desired), "application/json");
  out.headers.set("ETag", agentproto::desired_etag(desired.version));
  return out;
}

// A held poll: the body is the node's desired state once its version passed `since`, or the
// current one when the wait is over. Costs no thread while it waits.
class DesiredPoll : public common::ResponseStream, public std::enable_shared_from_this<DesiredPoll> {
 public:
  DesiredPoll(Instances& instances, std::string node_id) : instances_(instances), node_id_(std::move(node_id)) {}

  // Called by DesiredVersions::wait, possibly on its own thread: reads nothing back from it.
  void ready(std::uint64_t version) {
    std::string body;
    try {
      body = agentproto::to_text(instances_.desired(node_id_, version));
    } catch (const std::exception& e) {  // shutting down: the agent polls again
      common::log::warn("desired state not answered", {{"node_id", node_id_}, {"error", e.what()}});
    }
    Deliver deliver;
    {
      std::lock_guard lock(mutex_);
      body_ = std::move(body);
      ready_ = true;
      deliver = std::exchange(pending_, nullptr);
    }
    if (deliver) deliver(std::exchange(body_, {}), true);
  }

  void next(Deliver deliver) override {
    std::unique_lock lock(mutex_);
    if (!ready_ && !cancelled_) {
      pending_ = std::move(deliver);
      return;
    }
    auto body = std::exchange(body_, {});
    lock.unlock();
    deliver(std::move(body), true);
  }

  void cancel() override {
    Deliver deliver;
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      deliver = std::exchange(pending_, nullptr);
    }
    if (deliver) deliver({}, true);
  }

 private:
  Instances& instances_;
  std::string node_id_;
  std::mutex mutex_;
  bool ready_ = false, cancelled_ = false;
  std::string body_;
  Deliver pending_;
};

// GET /v1/agent/desired?since=V: at once when the node's version is past V (or V is absent),
// else held until it is or the long-poll ends.
common::Response agent_desired(AgentStateArea& area, common::Request& req) {
  const auto& agent = agent_of(req);
  auto since = common::input::query_integer(req, "since", 0, INT64_MAX);
  if (!since)
    if (auto tag = req.headers.get("If-None-Match"))
      if (auto v = agentproto::version_from_etag(std::string(*tag))) since = static_cast<std::int64_t>(*v);
  auto current = area.versions.current(agent.node_id);
  if (!since || current > static_cast<std::uint64_t>(*since)) return desired_response(area.instances, agent.node_id, current);
  auto poll = std::make_shared<DesiredPoll>(area.instances, agent.node_id);
  area.versions.wait(agent.node_id, static_cast<std::uint64_t>(*since), kLongPoll,
                     [poll](std::uint64_t version) { poll->ready(version); });
  common::Response out;
  out.headers.set("Content-Type", "application/json");
  out.stream = poll;
  return out;
}

// POST /v1/agent/events: transitions, crashes and install results of this node's instances.
common::Response agent_events(AgentStateArea& area, common::Request& req) {
  const auto& agent = agent_of(req);
  agentproto::EventBatch batch;
  try {
    batch = agentproto::from_text<agentproto::EventBatch>(req.body, "events");
  } catch (const agentproto::ProtocolError& e) {
    throw common::ApiError::validation(e.what());
  }
  auto outcome = area.instances.record(agent.node_id, batch);
  for (const auto& refused : outcome.refused)
    common::log::warn("agent event refused", {{"node_id", agent.node_id}, {"event", refused}});
  return common::Response::json({{"recorded", outcome.recorded}, {"refused", json::value_from(outcome.refused)}});
}

common::Route agent_route(std::string method, std::string path, common::Handler handler,
                          std::vector<std::string> fields, std::vector<std::string> query) {
  common::Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.auth = std::string(kAgentAuth);
  r.scope = "none";
  r.fields = std::move(fields);
  r.query = std::move(query);
  r.handler = std::move(handler);
  return r;
}

}  // namespace

Routes agent_state_routes(AgentStateArea& area) {
  return {
      agent_route("GET", "/v1/agent/desired", bind(area, agent_desired), {}, {"since"}),
      agent_route("POST", "/v1/agent/events", bind(area, agent_events), {"events", "v"}, {}),
  };
}

}  // namespace shardlyn
