#pragma once
// The stop sequence of the spec as steps in time: the stop command (a console line) or the stop
// signal; SIGTERM when `timeout` passed; SIGKILL when `kill_after` more passed. It owns no clock
// and no process: the supervisor (process driver) and the docker driver perform the steps it
// names, each with a note that says what was done and why, so every step is reported.
#include <chrono>
#include <optional>
#include <string>

#include "runtime/driver.hpp"

namespace agent {

struct StopAction {
  enum class Kind { Input, Signal } kind = Kind::Signal;
  int signal = 0;          // Kind::Signal
  std::string input;       // Kind::Input: the line to write to stdin
  std::string note;        // "stop: sent the stop command 'quit'"
};

class StopSequence {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StopSequence(StopPolicy policy) : policy_(std::move(policy)) {}

  // The first step, at `now`.
  StopAction begin(Clock::time_point now);
  // The next step when its time came (nullopt before, and after SIGKILL).
  std::optional<StopAction> advance(Clock::time_point now);
  // When advance() has its next step; nullopt once SIGKILL went (or before begin()).
  std::optional<Clock::time_point> deadline() const;
  const StopPolicy& policy() const { return policy_; }

 private:
  enum class Step { None, Asked, Terminated, Killed };
  StopPolicy policy_;
  Step step_ = Step::None;
  Clock::time_point deadline_{};
};

// "SIGTERM" for 15, "signal 42" for what has no name here.
std::string signal_name(int signal);

}  // namespace agent
