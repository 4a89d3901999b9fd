#pragma once
// Work that must not run while a request waits for its answer: the account-specific part of a
// password-reset request runs here, after the answer went out, so the answer takes the same
// time whether the address has an account or not (the time would otherwise tell). One thread at
// the lowest CPU priority, jobs in order, each started `delay` after it was posted so that it does
// not compete with the answer it follows; the destructor runs what is queued (at once) before it
// returns. A failing job is logged.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace identity {

class Deferred {
 public:
  explicit Deferred(std::string name, std::chrono::milliseconds delay = std::chrono::milliseconds(20));
  ~Deferred();
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

  void post(std::function<void()> job);

 private:
  void loop();

  struct Job {
    std::chrono::steady_clock::time_point not_before;
    std::function<void()> run;
  };

  std::string name_;
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace identity
