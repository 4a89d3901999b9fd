#pragma once
// Console output cut into lines, each with a per-instance sequence number, the last ones kept
// in a bounded ring so a console that reconnects replays what it missed.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver.hpp"

namespace agent {

class OutputRing {
 public:
  explicit OutputRing(std::size_t capacity_lines = 1000, std::size_t max_line_bytes = 16 * 1024);
  // Raw bytes from the workload; returns the lines they completed. A line longer than the
  // maximum is cut, so a program that never prints a newline cannot grow memory.
  std::vector<OutputLine> feed(std::string_view bytes);
  // The unfinished last line, if any (when the output ends).
  std::vector<OutputLine> flush();
  // A line that did not come from the workload (the supervisor's own notices).
  OutputLine add(std::string text);
  std::vector<OutputLine> since(std::uint64_t seq) const;
  std::vector<OutputLine> tail(std::size_t n) const;
  std::uint64_t last_seq() const { return next_seq_ - 1; }

 private:
  OutputLine push(std::string text);
  std::size_t capacity_, max_line_;
  std::deque<OutputLine> lines_;
  std::string partial_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace agent
