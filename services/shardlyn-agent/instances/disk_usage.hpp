#pragma once
// The disk space each instance root (DATA_DIR/instances/<id>) takes, measured in the
// background: every root walked once per interval, one after another on one thread, symlinks
// never followed, allocated blocks counted (what `du` says). A heartbeat reports the last
// measurement, so a large root costs the heartbeat nothing.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace agent {

class InstanceDiskUsage {
 public:
  InstanceDiskUsage(std::filesystem::path instances, std::chrono::seconds interval);
  ~InstanceDiskUsage();
  InstanceDiskUsage(const InstanceDiskUsage&) = delete;
  InstanceDiskUsage& operator=(const InstanceDiskUsage&) = delete;

  // The last measurement of the instance's root; nullopt before the first or without a root.
  std::optional<std::uint64_t> bytes(const std::string& instance_id) const;
  // One round on the caller's thread.
  void measure();
  // Allocated bytes under `root` (st_blocks x 512), the root included; what vanishes meanwhile
  // or cannot be read is skipped.
  static std::uint64_t allocated(const std::filesystem::path& root);

 private:
  void run(std::stop_token stop);

  std::filesystem::path instances_;
  std::chrono::seconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<std::string, std::uint64_t> bytes_;
  std::jthread thread_;
};

}  // namespace agent
