#include "tunnel/console_journal.hpp"

#include <algorithm>

namespace shardlyn {

ConsoleJournal::ConsoleJournal(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::uint64_t ConsoleJournal::append(std::string text) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  ring_.push_back(ConsoleLine{seq, std::move(text)});
  if (ring_.size() > capacity_) ring_.pop_front();
  return seq;
}

Replay ConsoleJournal::since(std::uint64_t seq) const {
  std::lock_guard lock(mutex_);
  Replay replay;
  if (ring_.empty()) return replay;
  const std::uint64_t oldest = ring_.front().seq;
  if (seq + 1 < oldest) replay.missed = oldest - seq - 1;
  for (const auto& line : ring_)
    if (line.seq > seq) replay.lines.push_back(line);
  return replay;
}

std::vector<ConsoleLine> ConsoleJournal::page(std::uint64_t seq, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<ConsoleLine> out;
  auto from = std::upper_bound(ring_.begin(), ring_.end(), seq,
                               [](std::uint64_t s, const ConsoleLine& line) { return s < line.seq; });
  for (; from != ring_.end() && out.size() < limit; ++from) out.push_back(*from);
  return out;
}

void ConsoleJournal::clear() {
  std::lock_guard lock(mutex_);
  ring_.clear();
}

std::uint64_t ConsoleJournal::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

LineThrottle::LineThrottle(double per_second, double burst)
    : per_second_(per_second), burst_(burst), tokens_(burst) {}

LineThrottle::Verdict LineThrottle::admit(double now_seconds) {
  if (started_) tokens_ = std::min(burst_, tokens_ + (now_seconds - last_) * per_second_);
  started_ = true;
  last_ = now_seconds;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    noticed_ = false;
    return Verdict::Send;
  }
  if (noticed_) return Verdict::Drop;
  noticed_ = true;
  return Verdict::DropWithNotice;
}

}  // namespace shardlyn
