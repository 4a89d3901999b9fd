#pragma once
// API-token uses (the `api_token.used` audit entry and the token's last use), committed in
// batches off the request path (decision 0026): a bounded queue drained by a background lane
// every kFlushInterval or once kBatch uses wait, and on shutdown. A crash (kill -9) loses at
// most the uses queued since the last batch committed. Reads that show uses (the token list,
// the audit log) call flush() first, so they always see every use answered before them.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/audit.hpp"
#include "store/database.hpp"

namespace shardlyn {

class TokenUses {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{200};
  static constexpr std::size_t kBatch = 512;      // wakes the lane early
  static constexpr std::size_t kCapacity = 8192;  // beyond it the request commits the batch itself

  struct Use {
    std::string token_id;
    audit::Actor actor;
    std::string org_id;
    std::int64_t at = 0;
  };

  explicit TokenUses(store::Database& db);
  ~TokenUses();  // stops the lane and commits what is left
  TokenUses(const TokenUses&) = delete;
  TokenUses& operator=(const TokenUses&) = delete;

  // Queues a use; when the queue is full, commits the waiting batch on the calling thread.
  void add(Use use);
  // Commits every queued use; returns once they are visible to readers.
  void flush();
  // Stops the lane after committing what is queued (later adds are committed by flush()).
  void stop();
  // Whether the next add() may commit on the calling thread.
  bool full() const;

 private:
  void lane();
  void commit(const std::vector<Use>& batch);

  store::Database& db_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Use> queue_;
  bool stopping_ = false;
  std::mutex commit_mutex_;  // batches commit in queue order, so last uses never go back in time
  std::thread lane_;
};

}  // namespace shardlyn
