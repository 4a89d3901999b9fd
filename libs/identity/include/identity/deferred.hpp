#pragma once
// Work that must not run while a request waits for its answer: the account-specific part of a
// password-reset request runs here, after the answer went out, so the answer takes the same
// time whether the address has an account or not (the time would otherwise tell). One thread,
// jobs in order; the destructor runs what is queued before it returns. A failing job is logged.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace identity {

class Deferred {
 public:
  explicit Deferred(std::string name);
  ~Deferred();
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

  void post(std::function<void()> job);

 private:
  void loop();

  std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace identity
