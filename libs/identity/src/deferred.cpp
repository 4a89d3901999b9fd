#include "identity/deferred.hpp"

#include <exception>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.hpp"

namespace identity {

Deferred::Deferred(std::string name, std::chrono::milliseconds delay)
    : name_(std::move(name)), delay_(delay), worker_([this] { loop(); }) {}

Deferred::~Deferred() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void Deferred::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::chrono::steady_clock::now() + delay_, std::move(job)});
  }
  wake_.notify_one();
}

void Deferred::loop() {
  // Linux applies a nice value to the calling thread alone; failing to lower it only costs time.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    if (!stopping_ && wake_.wait_until(lock, jobs_.front().not_before, [this] { return stopping_; })) continue;
    auto job = std::move(jobs_.front().run);
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      common::log::error("deferred job failed", {{"queue", name_}, {"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace identity
