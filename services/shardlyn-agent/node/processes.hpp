#pragma once
// Which instance a process on the node belongs to, for POST /v1/nodes/{id}/processes/{pid}/kill:
// a caller without nodes.terminal may kill only processes of the instances this agent runs.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace agent {

// The instance whose main process (`mains`: pid -> instance id) `pid` is, shares a process
// group with (the process driver's instances lead their own group) or descends from (a
// container's processes under its init). nullopt: no instance's, or no such process.
std::optional<std::string> owning_instance(const std::filesystem::path& proc_root, int pid,
                                           const std::map<int, std::string>& mains);

}  // namespace agent
