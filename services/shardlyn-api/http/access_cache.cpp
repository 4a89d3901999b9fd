#include "http/access_cache.hpp"

#include <sqlite3.h>

#include <array>
#include <string_view>

namespace shardlyn {

namespace {

// The tables whose rows authentication reads.
constexpr std::array<std::string_view, 6> kWatched = {"users",   "sessions",           "organizations",
                                                      "members", "member_permissions", "api_tokens"};

// SQLite checkpoints the WAL from its default WAL hook; installing ours replaces it, so it
// checkpoints the same way (passively, from 1000 pages on).
constexpr int kCheckpointPages = 1000;

thread_local int quiet_depth = 0;

void on_update(void* cache, int, const char*, const char* table, sqlite3_int64) {
  static_cast<AccessCache*>(cache)->changed(table);
}

int on_commit(void* cache, sqlite3* db, const char* name, int pages) {
  static_cast<AccessCache*>(cache)->committed();
  if (pages >= kCheckpointPages) sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

}  // namespace

AccessCache::AccessCache(store::Database& db) : db_(db) {
  db_.write([this](store::Connection& c) {
    sqlite3_update_hook(c.handle(), on_update, this);
    sqlite3_wal_hook(c.handle(), on_commit, this);
  });
}

AccessCache::~AccessCache() {
  try {
    db_.write([](store::Connection& c) {
      sqlite3_update_hook(c.handle(), nullptr, nullptr);
      sqlite3_wal_autocheckpoint(c.handle(), kCheckpointPages);
    });
  } catch (...) {  // NOLINT(bugprone-empty-catch): the database is closing anyway
  }
}

AccessCache::Quiet::Quiet() { ++quiet_depth; }
AccessCache::Quiet::~Quiet() { --quiet_depth; }

void AccessCache::changed(std::string_view table) {
  if (quiet_depth > 0) return;
  for (auto watched : kWatched)
    if (table == watched) pending_.store(true, std::memory_order_relaxed);
}

void AccessCache::committed() {
  if (pending_.exchange(false, std::memory_order_acq_rel)) generation_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace shardlyn
