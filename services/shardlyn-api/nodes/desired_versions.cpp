#include "nodes/desired_versions.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "nodes/node_rows.hpp"

namespace shardlyn {

NodeVersions::NodeVersions(store::Database& db) : db_(db), timer_([this](std::stop_token s) { run(s); }) {}

NodeVersions::~NodeVersions() {
  stop();
  timer_.request_stop();
  changed_.notify_all();
}

std::uint64_t NodeVersions::version_locked(const std::string& node_id) const {
  if (auto it = versions_.find(node_id); it != versions_.end()) return it->second;
  auto v = db_.read([&](store::Connection& db) { return node_rows::desired_version(db, node_id); });
  if (!v) return 0;  // no such node (yet): nothing is desired of it
  versions_[node_id] = *v;
  return *v;
}

std::uint64_t NodeVersions::current(const std::string& node_id) const {
  std::lock_guard lock(mutex_);
  return version_locked(node_id);
}

std::uint64_t NodeVersions::bump(store::Connection& db, const std::string& node_id) {
  auto v = node_rows::bump_desired(db, node_id);
  if (!v) throw common::ApiError::not_found("node not found");
  return *v;
}

void NodeVersions::publish(const std::string& node_id, std::uint64_t version) {
  std::vector<Waiter> woken;
  {
    std::lock_guard lock(mutex_);
    auto& cached = versions_[node_id];
    cached = std::max(cached, version);  // a later bump may have been published first
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.node_id == node_id && it->second.since < cached) {
        woken.push_back(std::move(it->second));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    version = cached;
  }
  for (auto& w : woken) w.ready(version);
}

void NodeVersions::wait(const std::string& node_id, std::uint64_t since, std::chrono::milliseconds wait,
                        std::function<void(std::uint64_t)> ready) {
  std::uint64_t now_version = 0;
  {
    std::lock_guard lock(mutex_);
    now_version = version_locked(node_id);
    if (now_version <= since && !stopped_) {
      waiters_.emplace(std::chrono::steady_clock::now() + wait, Waiter{node_id, since, std::move(ready)});
      changed_.notify_all();
      return;
    }
  }
  ready(now_version);
}

void NodeVersions::stop() {
  std::multimap<Deadline, Waiter> held;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    held.swap(waiters_);
  }
  for (auto& [deadline, w] : held) w.ready(current(w.node_id));
}

void NodeVersions::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (waiters_.empty()) {
      changed_.wait(lock, stop, [this] { return !waiters_.empty(); });
      continue;
    }
    auto first = waiters_.begin()->first;
    if (changed_.wait_until(lock, stop, first, [this, first] { return waiters_.empty() || waiters_.begin()->first < first; }))
      continue;  // an earlier deadline arrived, or the held waits were answered
    std::vector<std::pair<Waiter, std::uint64_t>> due;
    auto now = std::chrono::steady_clock::now();
    while (!waiters_.empty() && waiters_.begin()->first <= now) {
      auto w = std::move(waiters_.begin()->second);
      waiters_.erase(waiters_.begin());
      std::uint64_t v = version_locked(w.node_id);
      due.emplace_back(std::move(w), v);
    }
    lock.unlock();
    for (auto& [w, v] : due) w.ready(v);
    lock.lock();
  }
}

}  // namespace shardlyn
