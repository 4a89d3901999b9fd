#pragma once
// Resource limits of a supervised process: a cgroup v2 group when the node lets the agent
// write one (cpu.max, memory.max, pids.max), otherwise rlimits on the process itself.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/driver.hpp"

namespace agent {

struct LimitPlan {
  std::filesystem::path cgroup;  // empty: the rlimit fallback
  std::string why_not_cgroup;    // the reason the fallback was taken, for the log
};

// The cgroup2 mount point listed in a /proc/self/mountinfo text, if any.
std::optional<std::filesystem::path> cgroup2_mount(std::string_view mountinfo);
// cpu.max for a number of cores: "150000 100000" for 1.5 (a 100 ms period); "max" for 0.
std::string cpu_max(double cores);

// Creates <cgroup2>/shardlyn/<instance id> with the limits when possible.
LimitPlan prepare_limits(const std::string& instance_id, const Limits& limits);
// In the forked child before exec: joins the cgroup, or sets the rlimits.
void enter_limits(const LimitPlan& plan, const Limits& limits);
// After the child ended: removes its cgroup.
void release_limits(const LimitPlan& plan);

}  // namespace agent
