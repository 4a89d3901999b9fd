// The console feeds over a hub with a stand-in agent: one channel per instance whatever the
// viewers, lines numbered by the journal, credit given back as lines are taken (not as viewers
// read them), commands on the channel, a lost channel reopened after the last line taken.
#include <catch2/catch.hpp>

#include <mutex>

#include "tunnel/console_feeds.hpp"

using namespace shardlyn;

namespace {

class RecordingConnection final : public common::WebSocketConnection {
 public:
  bool send(std::string message, bool) override {
    std::lock_guard lock(mutex);
    sent.push_back(agentproto::from_text<agentproto::TunnelFrame>(message, "frame"));
    return true;
  }
  void close(std::uint16_t, std::string) override {}
  std::size_t queued_bytes() const override { return 0; }
  template <class T>
  std::vector<T> all() {
    std::lock_guard lock(mutex);
    std::vector<T> out;
    for (const auto& f : sent)
      if (const auto* t = std::get_if<T>(&f)) out.push_back(*t);
    return out;
  }
  std::mutex mutex;
  std::vector<agentproto::TunnelFrame> sent;
};

class OneInstance final : public InstanceControl {
 public:
  InstanceRef ref{"i-1", "org-1", "node-1", "running", std::nullopt, 0};
  std::optional<InstanceRef> find(const std::string& org, const std::string& id) const override {
    return org == ref.org_id && id == ref.instance_id ? std::optional(ref) : std::nullopt;
  }
  std::optional<InstanceRef> find_any(const std::string& id) const override { return find(ref.org_id, id); }
  void power(const std::string&, const std::string&, PowerAction, const std::string&, const audit::Actor*) override {}
  std::vector<InstanceRef> running_on(const std::string&) const override { return {}; }
  void on_state(InstanceStateListener l) override { listener = std::move(l); }
  InstanceStateListener listener;
};

struct Viewer final : ConsoleViewer {
  std::mutex mutex;
  std::vector<ConsoleLine> lines;
  std::vector<std::string> notices, states;
  void line(const ConsoleLine& l, bool) override {
    std::lock_guard lock(mutex);
    lines.push_back(l);
  }
  void status(const std::string& state) override {
    std::lock_guard lock(mutex);
    states.push_back(state);
  }
  void stats(const InstanceRef&) override {}
  void daemon_message(const std::string& text) override {
    std::lock_guard lock(mutex);
    notices.push_back(text);
  }
  void refused(const std::string&, const std::string&, const std::string&) override {}
  void tick(std::int64_t) override {}
};

agentproto::ChannelData output(std::uint64_t channel, std::uint64_t agent_seq, std::string text) {
  return {channel, "console output", {boost::json::string(text)}, agent_seq};
}

}  // namespace

TEST_CASE("one channel per instance feeds every viewer, and credit follows the journal") {
  TunnelHub hub;
  OneInstance instances;
  auto agent = std::make_shared<RecordingConnection>();
  auto socket = hub.accept({"node-1", "org-1"}, "127.0.0.1");
  socket->on_open(agent);
  ConsoleFeeds feeds(hub, instances, {.ring_lines = 100, .window_bytes = 1000, .tick = std::chrono::hours(1)});
  auto a = std::make_shared<Viewer>(), b = std::make_shared<Viewer>();
  feeds.watch(instances.ref, a);
  feeds.watch(instances.ref, b);
  auto opens = agent->all<agentproto::OpenChannel>();
  REQUIRE(opens.size() == 1);  // one channel, two viewers
  CHECK(opens[0].since_seq == 0u);  // the agent's whole ring first
  CHECK(opens[0].window_bytes == 1000);
  auto channel = opens[0].channel;

  std::uint64_t sent_bytes = 0;
  for (int i = 1; i <= 20; ++i) {
    auto data = output(channel, static_cast<std::uint64_t>(i) + 40, "line " + std::to_string(i));
    sent_bytes += agentproto::to_text(agentproto::TunnelFrame{data}).size();
    socket->on_message(agentproto::to_text(agentproto::TunnelFrame{data}), false);
  }
  CHECK(a->lines.size() == 20);
  CHECK(b->lines.back().seq == 20);  // the journal's seq, not the agent's
  std::uint64_t credited = 0;
  for (const auto& c : agent->all<agentproto::ChannelCredit>()) credited += c.bytes;
  CHECK(credited > 0);
  CHECK(credited <= sent_bytes);
  CHECK(sent_bytes - credited < 250);  // what is left is under a quarter of the window
  CHECK(feeds.page("i-1", 18, 10).size() == 2);

  feeds.send_command(instances.ref, "say hi");
  auto data = agent->all<agentproto::ChannelData>();
  REQUIRE(data.size() == 1);
  CHECK(data[0].event == "send command");
  CHECK(data[0].args[0] == "say hi");

  // The agent ends the channel: viewers hear it; the next command reopens after the last line.
  socket->on_message(agentproto::to_text(agentproto::TunnelFrame{agentproto::CloseChannel{channel, "instance output ended"}}),
                     false);
  CHECK(a->notices == std::vector<std::string>{"console detached: instance output ended"});
  feeds.send_command(instances.ref, "again");
  opens = agent->all<agentproto::OpenChannel>();
  REQUIRE(opens.size() == 2);
  CHECK(opens[1].since_seq == 60u);

  socket->on_close(1006, "");
  CHECK_THROWS_AS(feeds.send_command(instances.ref, "offline"), TunnelError);
  feeds.stop();
  hub.stop();
}

TEST_CASE("every state an instance takes reaches its viewers as it is committed, each once") {
  TunnelHub hub;
  OneInstance instances;
  ConsoleFeeds feeds(hub, instances, {.ring_lines = 100, .window_bytes = 1000, .tick = std::chrono::hours(1)});
  REQUIRE(instances.listener);
  auto viewer = std::make_shared<Viewer>();
  feeds.watch(instances.ref, viewer);
  for (const char* state : {"stopping", "stopped", "stopped", "starting", "running"}) instances.listener("i-1", state);
  instances.listener("another", "stopped");  // no feed: nobody hears it
  std::lock_guard lock(viewer->mutex);
  CHECK(viewer->states == std::vector<std::string>{"stopping", "stopped", "starting", "running"});
}
