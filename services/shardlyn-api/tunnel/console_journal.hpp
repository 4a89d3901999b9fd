#pragma once
// The console lines of one instance as the console and logs WebSockets see them: every line gets
// the next `seq` of the instance, the last `capacity` lines stay in a ring, and a viewer that
// reconnects with `send logs [seq]` gets what it missed (and learns when the ring has already
// dropped part of it). Thread-safe.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace shardlyn {

struct ConsoleLine {
  std::uint64_t seq = 0;
  std::string text;
};

struct Replay {
  std::vector<ConsoleLine> lines;  // every kept line after the asked seq, oldest first
  std::uint64_t missed = 0;        // lines after the asked seq the ring no longer holds
};

class ConsoleJournal {
 public:
  explicit ConsoleJournal(std::size_t capacity);
  // The seq given to the line (1 for the first line; strictly increasing).
  std::uint64_t append(std::string text);
  Replay since(std::uint64_t seq) const;
  // At most `limit` kept lines after `seq`, oldest first (a page of the history).
  std::vector<ConsoleLine> page(std::uint64_t seq, std::size_t limit) const;
  std::uint64_t last_seq() const;
  // Forgets the kept lines; seqs keep growing (a viewer's `send logs [seq]` stays meaningful).
  void clear();

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::uint64_t next_seq_ = 1;
  std::deque<ConsoleLine> ring_;
};

// A flood guard for the lines sent to one viewer: at most `burst` lines at once, refilled at
// `per_second`. The first line refused after an accepted one asks for a `throttled` notice, so
// the viewer is told once per throttled stretch, never silently left behind.
class LineThrottle {
 public:
  enum class Verdict { Send, DropWithNotice, Drop };
  LineThrottle(double per_second, double burst);
  Verdict admit(double now_seconds);

 private:
  double per_second_, burst_, tokens_, last_ = 0;
  bool started_ = false, noticed_ = false;
};

}  // namespace shardlyn
