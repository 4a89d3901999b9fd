#pragma once
// One viewer of GET /v1/instances/{id}/console or /logs (spec "Console and logs WebSockets"):
// frames {"event", "args": [JSON values], "seq"?}. Authenticated at the upgrade or by a first
// `auth` frame; every event checks its own permission (`send command` instances.console, `set
// state` instances.power) and every refused frame gets an `error` [{event, code, message}].
// Output is throttled per viewer with a `throttled` notice; the logs socket is read-only.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/http.hpp"
#include "common/router.hpp"
#include "common/websocket.hpp"
#include "http/access.hpp"
#include "nodes/runtime_seams.hpp"
#include "tunnel/console_feeds.hpp"

namespace shardlyn {

struct ViewerLimits {
  double lines_per_s = 200, burst = 400;      // output lines per viewer (LineThrottle)
  std::size_t queue_bytes = 512 * 1024;        // queued beyond this: lines dropped, `throttled` told
  std::size_t replay_queue_bytes = 2 << 20;    // a `send logs` replay pauses beyond this (the route queues 4 MiB)
  std::int64_t auth_timeout_s = 30;            // without credentials by then: closed
  std::int64_t expiring_notice_s = 60;         // `token expiring` this long before the end
};

// The console and logs WebSockets each caller (a user, or an API token) holds open, up to
// SHARDLYN_CONSOLE_MAX_PER_CALLER. Thread-safe.
class ViewerSlots {
 public:
  explicit ViewerSlots(std::size_t per_caller) : per_caller_(per_caller) {}
  // False when the caller holds all its slots already.
  bool take(const std::string& caller);
  void give_back(const std::string& caller);

 private:
  std::mutex mutex_;
  std::size_t per_caller_;
  std::map<std::string, std::size_t> held_;
};

// What the console and logs WebSockets act through.
struct ConsoleArea {
  const Access& access;
  InstanceControl& instances;
  ConsoleFeeds& feeds;
  ViewerSlots& slots;
  ViewerLimits limits{};
};

enum class ConsoleMode { Console, Logs };

// The handler of one upgrade that passed the route's guard (or carries no credential yet).
// Throws ApiError 404 when the caller's organisation has no such instance.
std::shared_ptr<common::WebSocketHandler> open_console(ConsoleArea& area, common::Request& upgrade, ConsoleMode mode);

}  // namespace shardlyn
