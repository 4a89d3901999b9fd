#include "runtime/output_ring.hpp"

namespace agent {

OutputRing::OutputRing(std::size_t capacity_lines, std::size_t max_line_bytes)
    : capacity_(capacity_lines), max_line_(max_line_bytes) {}

OutputLine OutputRing::push(std::string text) {
  if (!text.empty() && text.back() == '\r') text.pop_back();
  OutputLine line{next_seq_++, std::move(text)};
  lines_.push_back(line);
  while (lines_.size() > capacity_) lines_.pop_front();
  return line;
}

std::vector<OutputLine> OutputRing::feed(std::string_view bytes) {
  std::vector<OutputLine> out;
  for (char c : bytes) {
    if (c == '\n') {
      out.push_back(push(std::move(partial_)));
      partial_.clear();
      continue;
    }
    partial_.push_back(c);
    if (partial_.size() >= max_line_) {
      out.push_back(push(std::move(partial_)));
      partial_.clear();
    }
  }
  return out;
}

std::vector<OutputLine> OutputRing::flush() {
  if (partial_.empty()) return {};
  std::vector<OutputLine> out{push(std::move(partial_))};
  partial_.clear();
  return out;
}

OutputLine OutputRing::add(std::string text) { return push(std::move(text)); }

std::vector<OutputLine> OutputRing::since(std::uint64_t seq) const {
  std::vector<OutputLine> out;
  for (const auto& l : lines_)
    if (l.seq > seq) out.push_back(l);
  return out;
}

std::vector<OutputLine> OutputRing::tail(std::size_t n) const {
  auto start = lines_.size() > n ? lines_.size() - n : 0;
  return {lines_.begin() + static_cast<std::ptrdiff_t>(start), lines_.end()};
}

}  // namespace agent
