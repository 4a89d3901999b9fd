#pragma once
// DesiredVersions (runtime_seams.hpp) over the nodes table: the version is the node row's
// desired_version, bumped inside the transaction of the change; waiting long-polls are held here, not on a thread
// each: one timer thread answers those whose wait has passed.
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "nodes/runtime_seams.hpp"
#include "store/database.hpp"

namespace shardlyn {

class NodeVersions final : public DesiredVersions {
 public:
  explicit NodeVersions(store::Database& db);
  ~NodeVersions() override;

  std::uint64_t bump(store::Connection& db, const std::string& node_id) override;
  void publish(const std::string& node_id, std::uint64_t version) override;
  std::uint64_t current(const std::string& node_id) const override;
  void wait(const std::string& node_id, std::uint64_t since, std::chrono::milliseconds wait,
            std::function<void(std::uint64_t)> ready) override;
  // Answers every held wait with the current version; later waits are answered at once.
  void stop();

 private:
  struct Waiter {
    std::string node_id;
    std::uint64_t since = 0;
    std::function<void(std::uint64_t)> ready;
  };
  using Deadline = std::chrono::steady_clock::time_point;

  void run(std::stop_token stop);
  // The cached version (read from the table on first use); callers hold mutex_.
  std::uint64_t version_locked(const std::string& node_id) const;

  store::Database& db_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  mutable std::unordered_map<std::string, std::uint64_t> versions_;
  std::multimap<Deadline, Waiter> waiters_;
  bool stopped_ = false;
  std::jthread timer_;
};

}  // namespace shardlyn
