#include "instances/disk_usage.hpp"

#include <sys/stat.h>

#include <system_error>

namespace agent {

namespace fs = std::filesystem;

namespace {

std::uint64_t blocks_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace

InstanceDiskUsage::InstanceDiskUsage(fs::path instances, std::chrono::seconds interval)
    : instances_(std::move(instances)), interval_(interval), thread_([this](std::stop_token s) { run(s); }) {}

InstanceDiskUsage::~InstanceDiskUsage() {
  thread_.request_stop();
  wake_.notify_all();
}

std::uint64_t InstanceDiskUsage::allocated(const fs::path& root) {
  std::uint64_t total = blocks_of(root);
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) total += blocks_of(it->path());  // symlinks: lstat, not followed
  return total;
}

void InstanceDiskUsage::measure() {
  std::map<std::string, std::uint64_t> measured;
  std::error_code ec;
  for (fs::directory_iterator it(instances_, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) measured[it->path().filename().string()] = allocated(it->path());
  std::lock_guard lock(mutex_);
  bytes_ = std::move(measured);
}

std::optional<std::uint64_t> InstanceDiskUsage::bytes(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = bytes_.find(instance_id);
  if (it == bytes_.end()) return std::nullopt;
  return it->second;
}

void InstanceDiskUsage::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    measure();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

}  // namespace agent
