#include "node/metrics.hpp"

#include <sys/statvfs.h>

#include <charconv>
#include <stdexcept>

#include "common/files.hpp"

namespace agent {

namespace {

// Splits on spaces and tabs, dropping empty fields.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::uint64_t to_u64(std::string_view s, const char* file) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw std::runtime_error(std::string(file) + ": not a number: " + std::string(s));
  return v;
}

double to_double(std::string_view s, const char* file) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw std::runtime_error(std::string(file) + ": not a number: " + std::string(s));
  return v;
}

}  // namespace

std::uint64_t NetworkCounters::rx_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& i : interfaces) sum += i.rx_bytes;
  return sum;
}

std::uint64_t NetworkCounters::tx_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& i : interfaces) sum += i.tx_bytes;
  return sum;
}

CpuTimes parse_proc_stat(std::string_view text) {
  CpuTimes t;
  bool seen = false;
  for (auto line : lines(text)) {
    auto f = fields(line);
    if (f.empty() || !f[0].starts_with("cpu")) continue;
    if (f[0] != "cpu") {
      ++t.cores;
      continue;
    }
    // cpu user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
    // already counted in user, so it is left out.
    if (f.size() < 9) throw std::runtime_error("/proc/stat: the cpu line has fewer than 8 fields");
    std::uint64_t v[8];
    for (int i = 0; i < 8; ++i) v[i] = to_u64(f[i + 1], "/proc/stat");
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.total = t.busy + v[3] + v[4];
    seen = true;
  }
  if (!seen) throw std::runtime_error("/proc/stat: no cpu line");
  return t;
}

double cpu_usage_between(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0.0;
  return static_cast<double>(after.busy - before.busy) / static_cast<double>(after.total - before.total);
}

MemoryInfo parse_meminfo(std::string_view text) {
  MemoryInfo m;
  bool total = false, available = false;
  for (auto line : lines(text)) {
    auto f = fields(line);
    if (f.size() < 2) continue;
    // Values are in KiB whatever the unit column says ("kB").
    if (f[0] == "MemTotal:") m.total_bytes = to_u64(f[1], "/proc/meminfo") * 1024, total = true;
    if (f[0] == "MemAvailable:") m.available_bytes = to_u64(f[1], "/proc/meminfo") * 1024, available = true;
  }
  if (!total || !available) throw std::runtime_error("/proc/meminfo: MemTotal or MemAvailable missing");
  if (m.available_bytes > m.total_bytes) m.available_bytes = m.total_bytes;
  return m;
}

LoadAverage parse_loadavg(std::string_view text) {
  auto f = fields(lines(text).empty() ? text : lines(text).front());
  if (f.size() < 3) throw std::runtime_error("/proc/loadavg: fewer than three averages");
  return {to_double(f[0], "/proc/loadavg"), to_double(f[1], "/proc/loadavg"), to_double(f[2], "/proc/loadavg")};
}

NetworkCounters parse_net_dev(std::string_view text) {
  NetworkCounters n;
  for (auto line : lines(text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the two header lines
    auto name = fields(line.substr(0, colon));
    auto f = fields(line.substr(colon + 1));
    if (name.size() != 1) continue;
    if (f.size() < 9) throw std::runtime_error("/proc/net/dev: interface " + std::string(name[0]) + " has too few fields");
    if (name[0] == "lo") continue;
    n.interfaces.push_back({std::string(name[0]), to_u64(f[0], "/proc/net/dev"), to_u64(f[8], "/proc/net/dev")});
  }
  return n;
}

DiskUsage disk_usage(const std::filesystem::path& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) throw std::runtime_error("statfs " + path.string() + " failed");
  return {path.string(), static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize,
          static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize};
}

NodeMetrics::NodeMetrics(std::filesystem::path proc_root, std::filesystem::path data_dir,
                         std::chrono::milliseconds min_interval)
    : proc_(std::move(proc_root)), data_dir_(std::move(data_dir)), min_interval_(min_interval) {
  last_cpu_ = parse_proc_stat(common::read_file(proc_ / "stat"));
  last_at_ = std::chrono::steady_clock::now();
}

NodeSample NodeMetrics::current() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (!last_ || now - last_at_ >= min_interval_) {
    last_ = read_now();
    last_at_ = now;
  }
  return *last_;
}

NodeSample NodeMetrics::read_now() {
  NodeSample s;
  s.sampled_at = std::chrono::system_clock::now();
  auto cpu = parse_proc_stat(common::read_file(proc_ / "stat"));
  s.cpu_usage = cpu_usage_between(last_cpu_, cpu);
  s.cpu_cores = cpu.cores;
  last_cpu_ = cpu;
  s.memory = parse_meminfo(common::read_file(proc_ / "meminfo"));
  s.load = parse_loadavg(common::read_file(proc_ / "loadavg"));
  s.disk = disk_usage(data_dir_);
  s.network = parse_net_dev(common::read_file(proc_ / "net" / "dev"));
  return s;
}

}  // namespace agent
