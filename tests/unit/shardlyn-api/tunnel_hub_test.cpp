// The tunnel hub with a stand-in agent connection: requests answered, timed out and failed when
// the node is offline or its tunnel is replaced; channels carry data both ways and close once.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tunnel/hub.hpp"

using namespace shardlyn;
using namespace std::chrono_literals;

namespace {

// What the hub sends to one agent, recorded.
class RecordingConnection final : public common::WebSocketConnection {
 public:
  bool send(std::string message, bool) override {
    std::lock_guard lock(mutex);
    if (closed) return false;
    sent.push_back(agentproto::from_text<agentproto::TunnelFrame>(message, "frame"));
    return true;
  }
  void close(std::uint16_t, std::string) override {
    std::lock_guard lock(mutex);
    closed = true;
  }
  std::size_t queued_bytes() const override { return 0; }
  std::vector<agentproto::TunnelFrame> frames() {
    std::lock_guard lock(mutex);
    return sent;
  }
  std::mutex mutex;
  std::vector<agentproto::TunnelFrame> sent;
  bool closed = false;
};

struct Agent {
  std::shared_ptr<common::WebSocketHandler> handler;
  std::shared_ptr<RecordingConnection> connection = std::make_shared<RecordingConnection>();
  void say(const agentproto::TunnelFrame& frame) { handler->on_message(agentproto::to_text(frame), false); }
};

Agent connect(TunnelHub& hub, const std::string& node) {
  Agent a;
  a.handler = hub.accept(AgentCaller{node, "org-1"}, "127.0.0.1");
  a.handler->on_open(a.connection);
  return a;
}

// A reply slot the test can wait on (bounded).
struct Answer {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<agentproto::TunnelResponse> response;
  TunnelHub::Reply reply() {
    return [this](agentproto::TunnelResponse r) {
      std::lock_guard lock(mutex);
      response = std::move(r);
      done.notify_all();
    };
  }
  bool wait() {
    std::unique_lock lock(mutex);
    return done.wait_for(lock, 10s, [&] { return response.has_value(); });
  }
};

struct Sink final : ChannelSink {
  std::vector<agentproto::ChannelData> data;
  std::vector<std::string> closes;
  void on_data(const agentproto::ChannelData& d) override { data.push_back(d); }
  void on_close(const std::string& reason) override { closes.push_back(reason); }
};

}  // namespace

TEST_CASE("a request to an offline node fails at once with node_offline") {
  TunnelHub hub;
  Answer answer;
  hub.request("node-x", {.kind = agentproto::RequestKind::Inventory}, 1s, answer.reply());
  REQUIRE(answer.response);
  CHECK(answer.response->error_code == tunnel_codes::kNodeOffline);
  CHECK(tunnel_api_error(answer.response->error_code, answer.response->error_message).status() == 409);
  CHECK_THROWS_AS(hub.open_channel("node-x", {}, std::make_shared<Sink>()), TunnelError);
  CHECK(hub.stats().refused_offline == 1);
}

TEST_CASE("a request is answered by the agent's response with the same id") {
  TunnelHub hub;
  auto agent = connect(hub, "node-1");
  REQUIRE(hub.connected("node-1"));
  Answer answer;
  hub.request("node-1", {.kind = agentproto::RequestKind::Inventory, .sections = {"system"}}, 10s, answer.reply());
  auto frames = agent.connection->frames();
  REQUIRE(frames.size() == 1);
  const auto& sent = std::get<agentproto::TunnelRequest>(frames[0]);
  CHECK(sent.sections == std::vector<std::string>{"system"});
  CHECK_FALSE(answer.response);
  agent.say(agentproto::TunnelResponse{"someone-else", boost::json::object{}, "", ""});
  CHECK_FALSE(answer.response);  // not this request's id
  agent.say(agentproto::TunnelResponse{sent.id, boost::json::object{{"hostname", "n1"}}, "", ""});
  REQUIRE(answer.response);
  CHECK(answer.response->body->at("hostname") == "n1");
  CHECK(hub.stats().responses == 1);
  CHECK(hub.agents().front().requests == 1);
}

TEST_CASE("an unanswered request times out with agent_timeout, and a late answer is ignored") {
  TunnelHub hub;
  auto agent = connect(hub, "node-1");
  Answer answer;
  hub.request("node-1", {}, 1ms, answer.reply());
  REQUIRE(answer.wait());
  CHECK(answer.response->error_code == tunnel_codes::kTimeout);
  CHECK(tunnel_api_error(answer.response->error_code, "").status() == 504);
  auto id = std::get<agentproto::TunnelRequest>(agent.connection->frames()[0]).id;
  agent.say(agentproto::TunnelResponse{id, boost::json::object{}, "", ""});  // too late: nothing happens
  CHECK(hub.stats().timeouts == 1);
  CHECK(hub.stats().pending_requests == 0);
}

TEST_CASE("a new tunnel of the node replaces the old one: its requests and channels end") {
  TunnelHub hub;
  std::vector<std::pair<std::string, bool>> events;
  hub.listen([&](const std::string& node, bool up) { events.emplace_back(node, up); });
  auto first = connect(hub, "node-1");
  Answer answer;
  hub.request("node-1", {}, 10s, answer.reply());
  auto sink = std::make_shared<Sink>();
  auto channel = hub.open_channel("node-1", {.kind = agentproto::ChannelKind::Console, .instance_id = "i-1"}, sink);
  auto second = connect(hub, "node-1");
  REQUIRE(answer.response);
  CHECK(answer.response->error_code == tunnel_codes::kTunnelClosed);
  REQUIRE(sink->closes.size() == 1);
  CHECK(sink->closes[0].starts_with("tunnel_closed"));
  CHECK(channel->closed());
  CHECK(first.connection->closed);
  first.handler->on_close(1000, "replaced");  // the old socket's own end changes nothing now
  CHECK(hub.connected("node-1"));
  CHECK(hub.stats().replaced == 1);
  CHECK(events == std::vector<std::pair<std::string, bool>>{{"node-1", true}, {"node-1", true}});
  second.handler->on_close(1006, "");
  CHECK_FALSE(hub.connected("node-1"));
  CHECK(events.back() == std::make_pair(std::string("node-1"), false));
}

TEST_CASE("a channel carries data and credit both ways and closes once") {
  TunnelHub hub;
  auto agent = connect(hub, "node-1");
  auto sink = std::make_shared<Sink>();
  auto channel = hub.open_channel(
      "node-1", {.kind = agentproto::ChannelKind::Console, .instance_id = "i-1", .window_bytes = 4096}, sink);
  auto open = std::get<agentproto::OpenChannel>(agent.connection->frames()[0]);
  CHECK(open.channel == channel->id());
  CHECK(open.window_bytes == 4096);
  agent.say(agentproto::ChannelData{channel->id(), "console output", {"hello"}, 7});
  agent.say(agentproto::ChannelData{channel->id() + 100, "console output", {"lost"}, 1});  // no such channel
  REQUIRE(sink->data.size() == 1);
  CHECK(sink->data[0].seq == 7u);
  CHECK(channel->send({.event = "send command", .args = {"say hi"}}));
  channel->credit(512);
  auto frames = agent.connection->frames();
  REQUIRE(frames.size() == 3);
  CHECK(std::get<agentproto::ChannelData>(frames[1]).channel == channel->id());
  CHECK(std::get<agentproto::ChannelCredit>(frames[2]).bytes == 512);
  agent.say(agentproto::CloseChannel{channel->id(), "instance output ended"});
  channel->close("viewer left");  // already closed by the agent: nothing more
  CHECK(sink->closes == std::vector<std::string>{"instance output ended"});
  CHECK_FALSE(channel->send({.event = "send command", .args = {"late"}}));
  CHECK(hub.stats().channels == 0);
}

TEST_CASE("closing a channel tells the agent; a bad frame is counted, not answered") {
  TunnelHub hub;
  auto agent = connect(hub, "node-1");
  auto sink = std::make_shared<Sink>();
  auto channel = hub.open_channel("node-1", {.kind = agentproto::ChannelKind::Logs, .instance_id = "i-1"}, sink);
  channel->close("viewer left");
  auto frames = agent.connection->frames();
  CHECK(std::get<agentproto::CloseChannel>(frames.back()).reason == "viewer left");
  CHECK(sink->closes == std::vector<std::string>{"viewer left"});
  agent.handler->on_message("{\"v\":1,\"type\":\"nonsense\"}", false);
  CHECK(hub.stats().bad_frames == 1);
  CHECK(agent.connection->frames().size() == frames.size());
  hub.stop();
  CHECK_FALSE(hub.connected("node-1"));
  Answer answer;
  hub.request("node-1", {}, 1s, answer.reply());
  CHECK(answer.response->error_code == tunnel_codes::kNodeOffline);
}

TEST_CASE("a node with too many requests waiting refuses more with tunnel_busy") {
  TunnelHub hub({.max_pending_per_node = 1});
  auto agent = connect(hub, "node-1");
  Answer first, second;
  hub.request("node-1", {}, std::chrono::hours(1), first.reply());
  hub.request("node-1", {}, std::chrono::hours(1), second.reply());
  REQUIRE(second.response);
  CHECK(second.response->error_code == tunnel_codes::kBusy);
  CHECK(tunnel_api_error(second.response->error_code, "").status() == 503);
  CHECK_FALSE(first.response);
  CHECK(hub.stats().pending_requests == 1);
  CHECK(hub.agents().front().pending_requests == 1);
  hub.stop();  // the waiting one fails, it is not left hanging
  REQUIRE(first.response);
  CHECK(first.response->error_code == tunnel_codes::kTunnelClosed);
  CHECK(tunnel_api_error("unknown_section", "").status() == 502);
}
