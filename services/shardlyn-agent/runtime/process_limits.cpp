#include "runtime/process_limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/files.hpp"

namespace agent {

namespace {

bool write_control(const std::filesystem::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

bool has_controllers(const std::filesystem::path& group) {
  std::ifstream in(group / "cgroup.controllers");
  std::string word;
  int found = 0;
  while (in >> word) found += word == "cpu" || word == "memory" || word == "pids";
  return found == 3;
}

}  // namespace

std::optional<std::filesystem::path> cgroup2_mount(std::string_view mountinfo) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream before(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    before >> id >> parent >> dev >> root >> mount_point;
    if (!mount_point.empty()) return std::filesystem::path(mount_point);
  }
  return std::nullopt;
}

std::string cpu_max(double cores) {
  if (cores <= 0) return "max";
  constexpr long period = 100000;
  auto quota = static_cast<long>(cores * period);
  return std::to_string(quota < 1000 ? 1000 : quota) + " " + std::to_string(period);
}

LimitPlan prepare_limits(const std::string& instance_id, const Limits& limits) {
  std::string mountinfo;
  try {
    mountinfo = common::read_file("/proc/self/mountinfo");
  } catch (const std::exception&) {
    return {{}, "cannot read /proc/self/mountinfo"};
  }
  auto mount = cgroup2_mount(mountinfo);
  if (!mount) return {{}, "no cgroup2 filesystem is mounted"};
  auto parent = *mount / "shardlyn";
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return {{}, "cannot create " + parent.string() + ": " + ec.message()};
  // A group holding no processes may hand its controllers to its children.
  if (!has_controllers(parent)) {
    std::filesystem::remove(parent, ec);  // only when empty: another instance may use it
    return {{}, parent.string() + " lacks the cpu, memory or pids controller"};
  }
  if (!write_control(parent / "cgroup.subtree_control", "+cpu +memory +pids"))
    return {{}, "cannot enable controllers in " + parent.string()};
  auto group = parent / instance_id;
  std::filesystem::create_directories(group, ec);
  if (ec) return {{}, "cannot create " + group.string() + ": " + ec.message()};
  bool ok = write_control(group / "cpu.max", cpu_max(limits.cpu)) &&
            write_control(group / "memory.max", limits.memory_bytes ? std::to_string(limits.memory_bytes) : "max") &&
            write_control(group / "pids.max", limits.pids ? std::to_string(limits.pids) : "max");
  if (!ok) {
    std::filesystem::remove(group, ec);
    return {{}, "cannot write the limits of " + group.string()};
  }
  return {group, ""};
}

void enter_limits(const LimitPlan& plan, const Limits& limits) {
  if (limits.open_files) {
    rlimit r{limits.open_files, limits.open_files};
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  if (!plan.cgroup.empty()) {
    write_control(plan.cgroup / "cgroup.procs", "0");  // "0" moves the writing process
    return;
  }
  // Without a cgroup: address space stands in for memory, and processes are counted per
  // user (not enforced for root); CPU share has no rlimit equivalent.
  if (limits.memory_bytes) {
    rlimit r{limits.memory_bytes, limits.memory_bytes};
    ::setrlimit(RLIMIT_AS, &r);
  }
  if (limits.pids) {
    rlimit r{limits.pids, limits.pids};
    ::setrlimit(RLIMIT_NPROC, &r);
  }
}

void release_limits(const LimitPlan& plan) {
  if (plan.cgroup.empty()) return;
  ::rmdir(plan.cgroup.c_str());
}

}  // namespace agent
