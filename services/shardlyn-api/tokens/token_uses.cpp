#include "tokens/token_uses.hpp"

#include <exception>
#include <unordered_map>
#include <utility>

#include "common/log.hpp"
#include "http/access_cache.hpp"
#include "tokens/api_tokens.hpp"

namespace shardlyn {

TokenUses::TokenUses(store::Database& db) : db_(db), lane_([this] { lane(); }) {}

TokenUses::~TokenUses() {
  stop();
  flush();
}

void TokenUses::add(Use use) {
  bool commit_here = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(use));
    if (queue_.size() >= kCapacity) commit_here = true;
    else if (queue_.size() >= kBatch) wake_.notify_one();
  }
  // A full queue slows its producers down to the pace of the commits instead of growing.
  if (commit_here) flush();
}

bool TokenUses::full() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + 1 >= kCapacity;
}

void TokenUses::flush() {
  std::lock_guard order(commit_mutex_);
  std::vector<Use> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
  }
  if (!batch.empty()) commit(batch);
}

void TokenUses::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (lane_.joinable()) lane_.join();
}

void TokenUses::lane() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kFlushInterval, [this] { return stopping_ || queue_.size() >= kBatch; });
    lock.unlock();
    flush();
    lock.lock();
  }
}

void TokenUses::commit(const std::vector<Use>& batch) {
  // A token's last use is its latest one in the batch.
  std::unordered_map<std::string, const Use*> latest;
  for (const auto& use : batch) latest[use.token_id] = &use;
  auto write = [&](const std::vector<Use>& uses, bool touch_all) {
    db_.write([&](store::Connection& db) {
      AccessCache::Quiet quiet;  // no cached value holds a last use
      for (const auto& use : uses) audit::record(db, "api_token.used", use.actor, use.org_id, {}, {}, use.at);
      if (touch_all)
        for (const auto& [id, use] : latest) api_tokens::touch(db, id, use->at, use->actor.ip);
      else
        for (const auto& use : uses) api_tokens::touch(db, use.token_id, use.at, use.actor.ip);
    });
  };
  try {
    write(batch, true);
  } catch (const std::exception& e) {
    // One bad entry must not cost the others: each is retried alone, a failing one is logged.
    common::log::warn("api token use batch failed, committing one by one", {{"error", e.what()}});
    for (const auto& use : batch) {
      try {
        write({use}, false);
      } catch (const std::exception& one) {
        common::log::error("api token use not recorded", {{"token_id", use.token_id}, {"error", one.what()}});
      }
    }
  }
}

}  // namespace shardlyn
