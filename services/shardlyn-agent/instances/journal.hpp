#pragma once
// What the agent must remember about an instance across its own restarts and kill -9, one small
// JSON file per instance in DATA_DIR/journal/<id>.json (written atomically, 0600): the power
// generations it applied, whether the install ran, which run was seen ready, the restarts the
// policy counted, whether the last exit was handled and when a delayed restart is due, and an
// error that holds the instance until the user starts it again.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace agent {

struct InstanceRecord {
  std::uint64_t restart_generation = 0, kill_generation = 0;
  bool installed = false, installing = false;
  std::int64_t ready_run_started_at_ms = 0;  // started_at of the run that was seen ready
  std::string ready_reason;
  std::vector<std::int64_t> restarts_unix_ms;
  bool exit_handled = false;
  std::int64_t restart_at_unix_ms = 0;  // a restart the policy scheduled; 0 = none
  std::string hold;                     // "", "error" or "install_failed"
  std::string hold_reason;
};

class Journal {
 public:
  explicit Journal(std::filesystem::path dir);
  // nullopt when there is none (or it cannot be read: the instance starts from a clean record).
  std::optional<InstanceRecord> load(const std::string& id) const;
  void save(const std::string& id, const InstanceRecord& record) const;
  void forget(const std::string& id) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace agent
