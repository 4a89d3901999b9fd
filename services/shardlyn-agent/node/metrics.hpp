#pragma once
// Node metrics read from the kernel (/proc and statfs): the numbers the agent reports in its
// heartbeat and on its own /metrics. Parsers take the file's text so tests feed captured samples.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agent {

// Cumulative CPU time of the whole machine, in clock ticks (the "cpu" line of /proc/stat).
struct CpuTimes {
  std::uint64_t busy = 0;   // user + nice + system + irq + softirq + steal
  std::uint64_t total = 0;  // busy + idle + iowait
  unsigned cores = 0;       // cpuN lines
};

struct MemoryInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;  // MemAvailable: what can be used without swapping
  std::uint64_t used_bytes() const { return total_bytes - available_bytes; }
};

struct LoadAverage {
  double one = 0, five = 0, fifteen = 0;
};

struct DiskUsage {
  std::string path;
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;  // available to unprivileged users (statfs f_bavail)
  std::uint64_t used_bytes() const { return total_bytes - free_bytes; }
};

struct InterfaceCounters {
  std::string name;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
};

struct NetworkCounters {
  std::vector<InterfaceCounters> interfaces;  // loopback excluded: it is not the node's traffic
  std::uint64_t rx_bytes() const;
  std::uint64_t tx_bytes() const;
};

struct NodeSample {
  std::chrono::system_clock::time_point sampled_at;
  double cpu_usage = 0;  // 0..1 of all cores, over the interval since the previous sample
  unsigned cpu_cores = 0;
  MemoryInfo memory;
  LoadAverage load;
  DiskUsage disk;
  NetworkCounters network;
};

// Parsers of the kernel's text formats; each throws std::runtime_error naming the file when
// the text does not have the expected shape.
CpuTimes parse_proc_stat(std::string_view text);
MemoryInfo parse_meminfo(std::string_view text);
LoadAverage parse_loadavg(std::string_view text);
NetworkCounters parse_net_dev(std::string_view text);
DiskUsage disk_usage(const std::filesystem::path& path);

// Share of busy time between two readings (0 when no time passed).
double cpu_usage_between(const CpuTimes& before, const CpuTimes& after);

// Reads the node's metrics; CPU usage is the delta against the previous reading, so a fresh
// reading is taken at most once per `min_interval` and callers in between get the last one.
class NodeMetrics {
 public:
  NodeMetrics(std::filesystem::path proc_root, std::filesystem::path data_dir,
              std::chrono::milliseconds min_interval = std::chrono::seconds(1));
  NodeSample current();

 private:
  NodeSample read_now();
  std::filesystem::path proc_, data_dir_;
  std::chrono::milliseconds min_interval_;
  std::mutex mutex_;
  CpuTimes last_cpu_;
  std::optional<NodeSample> last_;
  std::chrono::steady_clock::time_point last_at_{};
};

}  // namespace agent
