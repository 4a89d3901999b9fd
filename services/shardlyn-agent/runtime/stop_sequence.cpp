#include "runtime/stop_sequence.hpp"

#include <csignal>
#include <map>

namespace agent {

std::string signal_name(int signal) {
  static const std::map<int, const char*> names = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGABRT, "SIGABRT"},
      {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGTERM, "SIGTERM"},
      {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGWINCH, "SIGWINCH"}};
  auto it = names.find(signal);
  return it != names.end() ? it->second : "signal " + std::to_string(signal);
}

StopAction StopSequence::begin(Clock::time_point now) {
  deadline_ = now + policy_.timeout;
  if (!policy_.command.empty()) {
    step_ = Step::Asked;
    return {StopAction::Kind::Input, 0, policy_.command, "stop: sent the stop command '" + policy_.command + "'"};
  }
  // When the stop signal is SIGTERM itself, the next step is SIGKILL.
  step_ = policy_.signal == SIGTERM ? Step::Terminated : Step::Asked;
  return {StopAction::Kind::Signal, policy_.signal, {}, "stop: sent " + signal_name(policy_.signal)};
}

std::optional<StopAction> StopSequence::advance(Clock::time_point now) {
  if (step_ == Step::None || step_ == Step::Killed || now < deadline_) return std::nullopt;
  if (step_ == Step::Asked) {
    step_ = Step::Terminated;
    deadline_ = now + policy_.kill_after;
    return StopAction{StopAction::Kind::Signal, SIGTERM, {},
                      "stop: still running after " + std::to_string(policy_.timeout.count()) + " ms, sent SIGTERM"};
  }
  step_ = Step::Killed;
  auto waited = policy_.command.empty() && policy_.signal == SIGTERM ? policy_.timeout : policy_.kill_after;
  return StopAction{StopAction::Kind::Signal, SIGKILL, {},
                    "stop: still running " + std::to_string(waited.count()) + " ms after SIGTERM, sent SIGKILL"};
}

std::optional<StopSequence::Clock::time_point> StopSequence::deadline() const {
  if (step_ == Step::None || step_ == Step::Killed) return std::nullopt;
  return deadline_;
}

}  // namespace agent
