#pragma once
// A bounded, thread-safe map of values by key, valid for one generation: an entry put under an
// older generation than the memo's is never returned, and a newer generation starts the memo
// over (use generation 0 throughout for values that never go stale, e.g. a verified token's
// claims). A full memo starts over too, so memory stays bounded whatever arrives.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace common {

template <class V>
class Memo {
 public:
  static constexpr std::size_t kMaxEntries = 50'000;

  std::shared_ptr<const V> get(const std::string& key, std::uint64_t generation = 0) const {
    std::lock_guard lock(mutex_);
    if (generation != generation_) return nullptr;
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second;
  }

  void put(std::string key, V value, std::uint64_t generation = 0) {
    auto entry = std::make_shared<const V>(std::move(value));
    std::lock_guard lock(mutex_);
    if (generation < generation_) return;
    if (generation > generation_ || map_.size() >= kMaxEntries) {
      map_.clear();
      generation_ = generation;
    }
    map_.insert_or_assign(std::move(key), std::move(entry));
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const V>> map_;
};

}  // namespace common
