#pragma once
// Server-sent events: a hub that numbers published events, keeps the last ones for
// Last-Event-ID replay, and fans them out to subscribers. Each subscriber's backlog is
// bounded; a subscriber that falls behind is dropped (its stream ends, so the client
// reconnects and replays from the buffer) instead of growing memory without bound.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/http.hpp"

namespace common {

class EventHub {
 public:
  struct Limits {
    std::size_t replay_events = 1000;          // kept for Last-Event-ID
    std::size_t subscriber_backlog = 1 << 20;  // bytes queued for one slow subscriber
    int retry_ms = 3000;                       // the `retry:` hint sent first
  };
  EventHub() : EventHub(Limits{}) {}
  explicit EventHub(Limits limits);
  ~EventHub();

  // Publishes `data` (one line of JSON) as event `type`; returns its id. With a publisher set,
  // the publisher numbers and stores the event and it reaches subscribers through deliver().
  std::uint64_t publish(const std::string& type, const std::string& data);
  using Publisher = std::function<std::uint64_t(const std::string& type, const std::string& data)>;
  // Hands publish() to `publisher` (events shared by replicas, common/shared_events.hpp);
  // `last_id` is the id the next deliver() must exceed (and the one `connected` carries).
  void set_publisher(Publisher publisher, std::uint64_t last_id);
  // An event numbered elsewhere: kept for replay and sent to the subscribers that want it.
  // Ids must increase; an id not above the last one is ignored (already delivered).
  void deliver(std::uint64_t id, const std::string& type, const std::string& data);

  // A response body for one client: the retry hint, a `connected` event carrying
  // `connected_data`, the buffered events after `last_event_id` (when given), then live events.
  // An empty `types` means every type.
  std::shared_ptr<ResponseStream> subscribe(std::optional<std::uint64_t> last_event_id, std::set<std::string> types,
                                            const std::string& connected_data);

  // Sends a comment line to every subscriber (keeps proxies from closing idle streams and
  // finds clients that went away).
  void keepalive();
  // Ends every stream (graceful shutdown).
  void close_all();
  std::size_t subscribers() const;
  std::uint64_t last_id() const;

  struct Subscriber;

 private:
  std::string format(std::uint64_t id, const std::string& type, const std::string& data) const;
  // Keeps event `id` for replay and returns the subscribers that want it (under mutex_).
  std::vector<std::shared_ptr<Subscriber>> store_locked(std::uint64_t id, const std::string& type, std::string text);
  Limits limits_;
  mutable std::mutex mutex_;
  std::uint64_t next_id_;
  Publisher publisher_;
  struct Stored {
    std::uint64_t id;
    std::string type;
    std::string text;
  };
  std::deque<Stored> replay_;
  std::vector<std::weak_ptr<Subscriber>> subscribers_;
};

// Formats one SSE event (multi-line data becomes several data: lines).
std::string sse_event(std::uint64_t id, const std::string& type, const std::string& data);

}  // namespace common
