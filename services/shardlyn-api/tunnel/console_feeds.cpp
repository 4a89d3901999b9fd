#include "tunnel/console_feeds.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::string_view kConsoleDetached = "console_detached";
constexpr std::string_view kFeedClosed = "the API stopped recording this console";

// States in which the instance may have output to attach to.
bool attachable(const std::string& state) {
  // `creating` too: the install may run before the API hears of it.
  return state == "creating" || state == "installing" || state == "starting" || state == "running" || state == "stopping";
}

}  // namespace

struct ConsoleFeeds::Feed {
  explicit Feed(InstanceRef r, std::size_t lines) : ref(std::move(r)), journal(lines) {}
  InstanceRef ref;  // as last read: node, state, stats
  ConsoleJournal journal;
  std::shared_ptr<TunnelChannel> channel;
  std::uint64_t generation = 0;  // of the channel: frames of an older one are ignored
  std::uint64_t agent_seq = 0;   // the agent's seq of the last line taken (replay on reopen)
  std::uint64_t consumed = 0;    // bytes taken since credit was last given back
  std::string detached;          // why the last channel ended, told once (reopens may fail alike)
  std::vector<std::weak_ptr<ConsoleViewer>> viewers;
};

class ConsoleFeeds::FeedSink final : public ChannelSink {
 public:
  FeedSink(ConsoleFeeds& feeds, const std::shared_ptr<Feed>& feed, std::uint64_t generation)
      : feeds_(feeds), feed_(feed), generation_(generation) {}
  void on_data(const agentproto::ChannelData& data) override {
    if (auto feed = current()) feeds_.received(feed, data);
  }
  void on_close(const std::string& reason) override {
    if (auto feed = current()) feeds_.detached(feed, reason);
  }

 private:
  std::shared_ptr<Feed> current() const {
    auto feed = feed_.lock();
    std::lock_guard lock(feeds_.mutex_);
    return feed && feed->generation == generation_ ? feed : nullptr;
  }
  ConsoleFeeds& feeds_;
  std::weak_ptr<Feed> feed_;
  std::uint64_t generation_;
};

ConsoleFeeds::ConsoleFeeds(TunnelHub& hub, InstanceControl& instances, ConsoleSettings settings)
    : hub_(hub), instances_(instances), settings_(settings), ticker_([this](std::stop_token s) { run(s); }) {
  // A node that (re)connects gets its consoles back at once, not at the next tick.
  hub_.listen([this](const std::string&, bool connected) {
    if (!connected) return;
    std::lock_guard lock(mutex_);
    woken_ = true;
    wake_.notify_all();
  });
  instances.on_state([this](const std::string& id, const std::string& state) { state_changed(id, state); });
}

// Every step shows (a restart's stopping and starting, however fast); the sweep, woken, opens
// the console channel of the new run at once.
void ConsoleFeeds::state_changed(const std::string& instance_id, const std::string& state) {
  std::shared_ptr<Feed> feed;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    auto it = feeds_.find(instance_id);
    if (it == feeds_.end() || it->second->ref.state == state) return;
    feed = it->second;
    feed->ref.state = state;
    woken_ = true;
  }
  wake_.notify_all();
  for (const auto& v : viewers_of(*feed)) v->status(state);
}

ConsoleFeeds::~ConsoleFeeds() { stop(); }

std::shared_ptr<ConsoleFeeds::Feed> ConsoleFeeds::feed_of(const InstanceRef& instance) {
  std::lock_guard lock(mutex_);
  auto& feed = feeds_[instance.instance_id];
  if (!feed) feed = std::make_shared<Feed>(instance, settings_.ring_lines);
  return feed;
}

std::shared_ptr<ConsoleFeeds::Feed> ConsoleFeeds::existing(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(instance_id);
  return it == feeds_.end() ? nullptr : it->second;
}

void ConsoleFeeds::watch(const InstanceRef& instance, const std::shared_ptr<ConsoleViewer>& viewer) {
  auto feed = feed_of(instance);
  {
    std::lock_guard lock(mutex_);
    feed->viewers.push_back(viewer);
  }
  open(feed);
}

void ConsoleFeeds::unwatch(const std::string& instance_id, const ConsoleViewer* viewer) {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(instance_id);
  if (it == feeds_.end()) return;
  std::erase_if(it->second->viewers, [&](const auto& w) {
    auto v = w.lock();
    return !v || v.get() == viewer;
  });
}

void ConsoleFeeds::remind(const std::shared_ptr<ConsoleViewer>& viewer) {
  std::lock_guard lock(mutex_);
  waiting_.push_back(viewer);
}

std::vector<std::shared_ptr<ConsoleViewer>> ConsoleFeeds::viewers_of(const Feed& feed) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ConsoleViewer>> out;
  for (const auto& w : feed.viewers)
    if (auto v = w.lock()) out.push_back(std::move(v));
  return out;
}

// Opens the feed's channel when it has none and the instance has output on a connected node.
void ConsoleFeeds::open(const std::shared_ptr<Feed>& feed) {
  std::lock_guard lock(mutex_);
  if (feed->channel || !attachable(feed->ref.state) || !hub_.connected(feed->ref.node_id)) return;
  agentproto::OpenChannel open{.kind = agentproto::ChannelKind::Console,
                               .instance_id = feed->ref.instance_id,
                               .since_seq = feed->agent_seq,  // 0: the agent's whole ring
                               .window_bytes = settings_.window_bytes};
  auto generation = ++feed->generation;
  feed->consumed = 0;
  try {
    feed->channel = hub_.open_channel(feed->ref.node_id, open, std::make_shared<FeedSink>(*this, feed, generation));
  } catch (const TunnelError&) {
    // The tunnel dropped meanwhile: the next tick tries again.
  }
}

void ConsoleFeeds::received(const std::shared_ptr<Feed>& feed, const agentproto::ChannelData& data) {
  if (data.event == "error") {
    const auto* o = data.args.empty() ? nullptr : data.args[0].if_object();
    auto text = [&](const char* key) {
      const auto* v = o ? o->if_contains(key) : nullptr;
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    for (const auto& v : viewers_of(*feed)) v->refused(text("event"), text("code"), text("message"));
    return;
  }
  bool install = data.event == "install output";
  if ((data.event != "console output" && !install) || data.args.size() != 1 || !data.args[0].is_string()) return;
  ConsoleLine line{0, std::string(data.args[0].as_string())};
  std::uint64_t lost = 0;
  {
    std::lock_guard lock(mutex_);
    if (data.seq && feed->agent_seq && *data.seq > feed->agent_seq + 1) lost = *data.seq - feed->agent_seq - 1;
  }
  if (lost) note_lost_lines(*feed, lost);
  line.seq = feed->journal.append(line.text);
  std::uint64_t give_back = 0;
  std::shared_ptr<TunnelChannel> channel;
  {
    std::lock_guard lock(mutex_);
    if (data.seq) feed->agent_seq = *data.seq;
    feed->detached.clear();
    // The agent counted the frame's text against its credit: the same bytes come back.
    feed->consumed += agentproto::to_text(agentproto::TunnelFrame{data}).size();
    if (feed->consumed >= settings_.window_bytes / 4) give_back = std::exchange(feed->consumed, 0);
    channel = feed->channel;
  }
  if (give_back && channel) channel->credit(give_back);
  for (const auto& v : viewers_of(*feed)) v->line(line, install);
}

// The agent's seqs jumped: lines the program wrote never reached the API (a burst faster than
// the tunnel carries outran the agent's ring). The journal says so where they would have been,
// so replay, history and downloads show the gap, and the viewers see the same line.
void ConsoleFeeds::note_lost_lines(Feed& feed, std::uint64_t lost) {
  auto text = std::string(kLostLinesPrefix) + std::to_string(lost) +
              " lines of output lost between the node and the API (the program wrote faster than the tunnel carries)";
  ConsoleLine notice{feed.journal.append(text), text};
  for (const auto& v : viewers_of(feed)) v->line(notice, false);
}

void ConsoleFeeds::detached(const std::shared_ptr<Feed>& feed, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    feed->channel.reset();
    if (reason == kFeedClosed || feed->detached == reason) return;
    feed->detached = reason;
  }
  for (const auto& v : viewers_of(*feed)) v->daemon_message("console detached: " + reason);
}

void ConsoleFeeds::send_command(const InstanceRef& instance, const std::string& line) {
  if (!hub_.connected(instance.node_id))
    throw TunnelError(std::string(tunnel_codes::kNodeOffline),
                      "node " + instance.node_id + " has no agent tunnel connected");
  // A feed without its channel opens it first: the tunnel keeps the order, open before data.
  auto feed = feed_of(instance);
  {
    std::lock_guard lock(mutex_);
    feed->ref.state = instance.state;
  }
  open(feed);
  std::shared_ptr<TunnelChannel> channel;
  {
    std::lock_guard lock(mutex_);
    channel = feed->channel;
  }
  if (!channel || !channel->send({.event = "send command", .args = {json::string(line)}}))
    throw TunnelError(std::string(kConsoleDetached),
                      "the console of this instance is not attached (state " + instance.state + ")");
}

Replay ConsoleFeeds::since(const std::string& instance_id, std::uint64_t seq) const {
  auto feed = existing(instance_id);
  return feed ? feed->journal.since(seq) : Replay{};
}

std::vector<ConsoleLine> ConsoleFeeds::page(const std::string& instance_id, std::uint64_t after,
                                            std::size_t limit) const {
  auto feed = existing(instance_id);
  return feed ? feed->journal.page(after, limit) : std::vector<ConsoleLine>{};
}

std::uint64_t ConsoleFeeds::last_seq(const std::string& instance_id) const {
  auto feed = existing(instance_id);
  return feed ? feed->journal.last_seq() : 0;
}

void ConsoleFeeds::clear(const std::string& instance_id) {
  if (auto feed = existing(instance_id)) feed->journal.clear();
}

void ConsoleFeeds::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, settings_.tick, [&] { return woken_; });
      woken_ = false;
    }
    if (stop.stop_requested()) return;
    try {
      sweep();
    } catch (const std::exception& e) {
      common::log::warn("console sweep failed", {{"error", e.what()}});
    }
  }
}

// Every instance that should run on a connected node is recorded; every feed's state, stats
// and channel are brought up to date, and its viewers' timers run.
void ConsoleFeeds::sweep() {
  for (const auto& agent : hub_.agents())
    for (const auto& instance : instances_.running_on(agent.node_id)) feed_of(instance);
  std::vector<std::shared_ptr<Feed>> feeds;
  std::vector<std::shared_ptr<ConsoleViewer>> waiting;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, feed] : feeds_) feeds.push_back(feed);
    std::erase_if(waiting_, [](const auto& w) { return w.expired(); });
    for (const auto& w : waiting_)
      if (auto v = w.lock()) waiting.push_back(std::move(v));
  }
  auto now = store::unix_now();
  for (const auto& feed : feeds) refresh(feed, now);
  for (const auto& v : waiting) v->tick(now);
}

void ConsoleFeeds::refresh(const std::shared_ptr<Feed>& feed, std::int64_t now) {
  auto fresh = instances_.find(feed->ref.org_id, feed->ref.instance_id);
  auto viewers = viewers_of(*feed);
  if (!fresh) {  // deleted
    std::shared_ptr<TunnelChannel> channel;
    {
      std::lock_guard lock(mutex_);
      feeds_.erase(feed->ref.instance_id);
      channel = std::exchange(feed->channel, nullptr);
    }
    if (channel) channel->close(std::string(kFeedClosed));
    for (const auto& v : viewers) v->gone();
    return;
  }
  bool state_changed = false, stats_changed = false;
  {
    std::lock_guard lock(mutex_);
    // What an announcement missed (a change committed elsewhere) shows at the next look.
    state_changed = fresh->state != feed->ref.state;
    stats_changed = fresh->stats_at != feed->ref.stats_at;
    feed->ref = *fresh;
  }
  for (const auto& v : viewers) {
    if (state_changed) v->status(fresh->state);
    if (stats_changed && fresh->stats) v->stats(*fresh);
    v->tick(now);
  }
  open(feed);
}

void ConsoleFeeds::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  ticker_.request_stop();
  if (ticker_.joinable()) ticker_.join();
  std::vector<std::shared_ptr<TunnelChannel>> channels;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, feed] : feeds_)
      if (feed->channel) channels.push_back(std::exchange(feed->channel, nullptr));
  }
  for (auto& c : channels) c->close(std::string(kFeedClosed));
}

}  // namespace shardlyn
