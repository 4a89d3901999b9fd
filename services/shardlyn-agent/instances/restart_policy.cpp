#include "instances/restart_policy.hpp"

#include <algorithm>
#include <cmath>

namespace agent {

namespace {

std::string how_it_ended(const ExitStatus& exit) {
  if (exit.oom_killed) return "killed out of memory";
  if (exit.signal) return "ended by signal " + std::to_string(*exit.signal);
  return "exited with code " + std::to_string(exit.code);
}

}  // namespace

RestartDecision RestartBudget::on_crash(const ExitStatus& exit, std::int64_t now) {
  auto ended = how_it_ended(exit);
  if (spec_.mode == agentproto::RestartMode::Never) return {false, {}, ended + "; restart policy: never"};
  bool failed = exit.code != 0 || exit.signal || exit.oom_killed;
  if (spec_.mode == agentproto::RestartMode::OnFailure && !failed)
    return {false, {}, ended + "; restart policy on-failure: not a failure"};
  auto window_start = now - static_cast<std::int64_t>(spec_.interval_ms);
  std::erase_if(restarts_, [&](std::int64_t at) { return at <= window_start; });
  auto used = restarts_.size();
  if (used >= spec_.attempts)
    return {false, {},
            ended + "; restart policy: " + std::to_string(spec_.attempts) + " restarts within " +
                std::to_string(spec_.interval_ms) + " ms used up"};
  // Capped at the interval: a long backoff never outlasts the window it is counted in.
  double wait = static_cast<double>(spec_.delay_ms) * std::pow(spec_.backoff, static_cast<double>(used));
  auto delay = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::min(wait, static_cast<double>(std::max<std::uint64_t>(spec_.interval_ms, 1)))));
  restarts_.push_back(now + delay.count());
  return {true, delay,
          ended + "; restart " + std::to_string(used + 1) + " of " + std::to_string(spec_.attempts) + " in " +
              std::to_string(delay.count()) + " ms (restart policy " + agentproto::to_string(spec_.mode) + ")"};
}

}  // namespace agent
