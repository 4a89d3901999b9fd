#pragma once
// What authentication reads, kept in memory: session liveness with the user's state, memberships
// with their permission overrides, organisations that exist and API-token records. The service
// is the only writer of its database, so invalidation in-process is exact: SQLite's update hook
// on the writer connection notes every change to users, sessions, organizations, members,
// member_permissions or api_tokens, and the commit (WAL hook, called once the commit is visible
// to readers) advances a generation. An entry is used only while the generation it was read
// under is current, so the request after a committed change reads the database again.
//
// Readers take generation() BEFORE reading the database and store under it: a commit racing the
// read leaves the entry tagged with the older generation, never used.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/database.hpp"

namespace shardlyn {

class AccessCache {
 public:
  // Installs the hooks on the database's writer connection (after the migrations ran).
  explicit AccessCache(store::Database& db);
  ~AccessCache();
  AccessCache(const AccessCache&) = delete;
  AccessCache& operator=(const AccessCache&) = delete;

  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // While alive on the writer's thread, changes do not advance the generation (recording an
  // API token's last use, which no cached value holds).
  class Quiet {
   public:
    Quiet();
    ~Quiet();
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;
  };

  // Called by the SQLite hooks.
  void changed(std::string_view table);
  void committed();

 private:
  store::Database& db_;
  std::atomic<std::uint64_t> generation_{1};
  std::atomic<bool> pending_{false};
};

// Values by key, valid for one generation (or for ever, with generation 0 throughout). Bounded:
// a full memo starts over.
template <class V>
class Memo {
 public:
  static constexpr std::size_t kMaxEntries = 50'000;

  std::shared_ptr<const V> get(const std::string& key, std::uint64_t generation) const {
    std::lock_guard lock(mutex_);
    if (generation != generation_) return nullptr;
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second;
  }

  void put(std::string key, V value, std::uint64_t generation) {
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

}  // namespace shardlyn
