#include "node/processes.hpp"

#include "common/files.hpp"

namespace agent {

namespace {

// Deep enough for any real process tree; a loop (a reused pid) cannot hold the walk.
constexpr int kMaxDepth = 128;

std::optional<ProcStat> read_stat(const std::filesystem::path& proc_root, int pid) {
  try {
    return parse_proc_pid_stat(common::read_file(proc_root / std::to_string(pid) / "stat"));
  } catch (const std::exception&) {
    return std::nullopt;  // no such process (or it just ended)
  }
}

}  // namespace

std::optional<std::string> owning_instance(const std::filesystem::path& proc_root, int pid,
                                           const std::map<int, std::string>& mains) {
  return owning_instance([&](int p) { return read_stat(proc_root, p); }, pid, mains);
}

std::optional<std::string> owning_instance(const StatLookup& stat_of, int pid, const std::map<int, std::string>& mains) {
  auto stat = stat_of(pid);
  if (!stat) return std::nullopt;
  if (auto group = mains.find(stat->pgrp); group != mains.end()) return group->second;
  int current = pid;
  for (int depth = 0; depth < kMaxDepth && stat && current > 1; ++depth) {
    if (auto main = mains.find(current); main != mains.end()) return main->second;
    current = stat->ppid;
    stat = stat_of(current);
  }
  return std::nullopt;
}

}  // namespace agent
