#pragma once
// The consoles of instances as the API records and shows them (decision 0033): one tunnel channel
// per instance, however many viewers watch it. Every line the agent sends goes into the
// instance's ConsoleJournal (its `seq`), then to each viewer; the agent's credit is given back as
// the journal takes the lines, so a slow viewer never slows the instance or the other viewers.
// The consoles of every instance that should run on a connected node are recorded, watched or
// not, so history, download and replay hold what was printed while nobody looked.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nodes/runtime_seams.hpp"
#include "tunnel/console_journal.hpp"
#include "tunnel/hub.hpp"

namespace shardlyn {

struct ConsoleSettings {
  std::size_t ring_lines = 5000;            // kept per instance (replay, history, download)
  std::uint64_t window_bytes = 1 << 20;     // the agent's send credit per console channel
  std::chrono::milliseconds tick{1000};     // how often state, stats and lost channels are looked at
};

// The start of the journal line that stands where lines the agent sent never reached the API.
inline constexpr std::string_view kLostLinesPrefix = "[shardlyn] ";

// What a viewer of one instance hears (from the tunnel's I/O thread or the feeds' tick; never block).
class ConsoleViewer {
 public:
  virtual ~ConsoleViewer() = default;
  // A line of output; `install`: printed by the install script.
  virtual void line(const ConsoleLine& line, bool install) = 0;
  virtual void status(const std::string& state) = 0;
  virtual void stats(const InstanceRef& instance) = 0;
  virtual void daemon_message(const std::string& text) = 0;
  // The agent refused an event of this console (e.g. a command for an instance that stopped).
  virtual void refused(const std::string& event, const std::string& code, const std::string& message) = 0;
  // Once a tick, for timers of its own (token expiry).
  virtual void tick(std::int64_t now) = 0;
  // The instance is gone (deleted): nothing more will come.
  virtual void gone() = 0;
};

class ConsoleFeeds {
 public:
  // Listens to the instances' states (InstanceControl::on_state) for the viewers' status frames.
  ConsoleFeeds(TunnelHub& hub, InstanceControl& instances, ConsoleSettings settings = {});
  ~ConsoleFeeds();  // stop()
  ConsoleFeeds(const ConsoleFeeds&) = delete;
  ConsoleFeeds& operator=(const ConsoleFeeds&) = delete;

  // The viewer hears the instance's output from now on (the feed opens if it was not).
  void watch(const InstanceRef& instance, const std::shared_ptr<ConsoleViewer>& viewer);
  void unwatch(const std::string& instance_id, const ConsoleViewer* viewer);
  // A viewer that watches nothing yet (waiting for its auth frame) still gets its ticks.
  void remind(const std::shared_ptr<ConsoleViewer>& viewer);

  // Writes a line to the instance's stdin. Throws TunnelError: node_offline (no tunnel), or
  // console_detached (no console channel: the instance does not run).
  void send_command(const InstanceRef& instance, const std::string& line);

  // What the journal holds (an instance never recorded holds nothing).
  Replay since(const std::string& instance_id, std::uint64_t seq) const;
  std::vector<ConsoleLine> page(const std::string& instance_id, std::uint64_t after, std::size_t limit) const;
  std::uint64_t last_seq(const std::string& instance_id) const;
  void clear(const std::string& instance_id);

  void stop();

 private:
  struct Feed;
  class FeedSink;
  friend class FeedSink;

  std::shared_ptr<Feed> feed_of(const InstanceRef& instance);
  std::shared_ptr<Feed> existing(const std::string& instance_id) const;
  void open(const std::shared_ptr<Feed>& feed);
  void received(const std::shared_ptr<Feed>& feed, const agentproto::ChannelData& data);
  void detached(const std::shared_ptr<Feed>& feed, const std::string& reason);
  void note_lost_lines(Feed& feed, std::uint64_t lost);
  void run(std::stop_token stop);
  void sweep();
  void refresh(const std::shared_ptr<Feed>& feed, std::int64_t now);
  void state_changed(const std::string& instance_id, const std::string& state);
  std::vector<std::shared_ptr<ConsoleViewer>> viewers_of(const Feed& feed) const;

  TunnelHub& hub_;
  InstanceControl& instances_;
  ConsoleSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  bool woken_ = false;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<Feed>> feeds_;  // by instance id
  std::vector<std::weak_ptr<ConsoleViewer>> waiting_;    // ticked until they go
  std::jthread ticker_;
};

}  // namespace shardlyn
