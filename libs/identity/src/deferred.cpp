#include "identity/deferred.hpp"

#include <exception>

#include "common/log.hpp"

namespace identity {

Deferred::Deferred(std::string name) : name_(std::move(name)), worker_([this] { loop(); }) {}

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
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Deferred::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    auto job = std::move(jobs_.front());
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
