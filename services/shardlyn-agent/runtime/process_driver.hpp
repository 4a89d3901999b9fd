#pragma once
// The `process` driver: each instance runs under its own supervisor process (see
// supervisor.hpp), found again after an agent restart through its state directory.
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/driver.hpp"

namespace agent {

// How to start a supervisor: an executable and the arguments before "<state dir> <root>".
struct SupervisorCommand {
  std::filesystem::path executable;  // the agent binary itself (/proc/self/exe)
  std::vector<std::string> leading_args{"supervise"};
};

class ProcessDriver : public RuntimeDriver {
 public:
  // Instance roots live in `instances`/<id>/; supervisor state in `supervisors`/<id>/, outside
  // the root, so a workload cannot rewrite its own exit record or socket.
  ProcessDriver(std::filesystem::path instances, std::filesystem::path supervisors, SupervisorCommand command);

  const char* name() const override { return "process"; }
  InstanceHandle start(const Workload& workload) override;
  std::vector<InstanceHandle> recover() override;
  Observed inspect(const InstanceHandle& instance) override;
  void send_input(const InstanceHandle& instance, const std::string& line) override;
  std::optional<ExitStatus> stop(const InstanceHandle& instance, const StopPolicy& policy,
                                 std::chrono::milliseconds deadline, const StopProgress& progress = {}) override;
  void kill(const InstanceHandle& instance, int signal) override;
  std::vector<OutputLine> logs(const InstanceHandle& instance, std::size_t tail) override;
  std::unique_ptr<Console> attach(const InstanceHandle& instance, std::uint64_t since_seq) override;
  Stats stats(const InstanceHandle& instance) override;
  void remove(const InstanceHandle& instance) override;

  std::filesystem::path state_dir(const std::string& instance_id) const { return supervisors_ / instance_id; }
  std::filesystem::path root(const std::string& instance_id) const { return instances_ / instance_id; }

 private:
  void launch_supervisor(const std::string& instance_id);
  std::optional<ExitStatus> exit_record(const std::string& instance_id) const;
  // The process group of an instance whose supervisor died without an exit record (killed),
  // when it still runs: it must not be started twice, and it can still be killed.
  std::optional<int> orphaned_group(const std::string& instance_id) const;
  std::filesystem::path instances_, supervisors_;
  SupervisorCommand command_;
};

// CPU time and resident memory of every process in a process group, from /proc.
Stats process_group_stats(const std::filesystem::path& proc_root, int pgid);
// Fields of /proc/<pid>/stat after the command name: (state, ppid, pgrp, ..., utime, stime, ..., rss).
struct ProcStat {
  char state = '?';  // R, S, D, Z (zombie) ...
  int pgrp = 0;
  std::uint64_t utime_ticks = 0, stime_ticks = 0, rss_pages = 0;
  int ppid = 0;
};
std::optional<ProcStat> parse_proc_pid_stat(std::string_view text);

}  // namespace agent
