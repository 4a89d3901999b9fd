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

#include "common/memo.hpp"
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

}  // namespace shardlyn
