#pragma once
// The restart policy of a workload, applied on the agent (decision 0027): after a crash, restart
// or not (`never`, `on-failure`: only a non-zero exit or a signal, `always`), at most `attempts`
// restarts within `interval`, the n-th of them (n from 0, counting those still in the interval)
// after delay * backoff^n. Pure: time is given, restarts are remembered as unix milliseconds so
// the record survives an agent restart.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agentproto/messages.hpp"
#include "runtime/driver.hpp"

namespace agent {

struct RestartDecision {
  bool restart = false;
  std::chrono::milliseconds delay{0};  // from the crash to the restart
  std::string reason;                  // what a transition record says
};

class RestartBudget {
 public:
  explicit RestartBudget(agentproto::RestartSpec spec = {}, std::vector<std::int64_t> restarts_unix_ms = {})
      : spec_(spec), restarts_(std::move(restarts_unix_ms)) {}

  // What to do after `exit` at `now_unix_ms`; a restart is counted against the budget.
  RestartDecision on_crash(const ExitStatus& exit, std::int64_t now_unix_ms);
  // A start the user asked for begins a fresh budget.
  void reset() { restarts_.clear(); }
  void set_spec(const agentproto::RestartSpec& spec) { spec_ = spec; }
  const std::vector<std::int64_t>& restarts() const { return restarts_; }

 private:
  agentproto::RestartSpec spec_;
  std::vector<std::int64_t> restarts_;
};

}  // namespace agent
