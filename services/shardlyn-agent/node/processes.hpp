#pragma once
// Which instance a process on the node belongs to, for POST /v1/nodes/{id}/processes/{pid}/kill:
// a caller without nodes.terminal may kill only processes of the instances this agent runs.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "runtime/process_driver.hpp"

namespace agent {

// A process's /proc/<pid>/stat, or nullopt when there is no such process.
using StatLookup = std::function<std::optional<ProcStat>(int pid)>;

// The instance whose main process (`mains`: pid -> instance id) `pid` is, shares a process
// group with (the process driver's instances lead their own group) or descends from (a
// container's processes under its init). nullopt: no instance's, or no such process.
std::optional<std::string> owning_instance(const std::filesystem::path& proc_root, int pid,
                                           const std::map<int, std::string>& mains);
// The same over stats already read (the inventory reads every process once).
std::optional<std::string> owning_instance(const StatLookup& stat_of, int pid, const std::map<int, std::string>& mains);

}  // namespace agent
