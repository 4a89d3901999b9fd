#pragma once
// The supervisor: a small process (`shardlyn-agent supervise <state dir> <instance root>`)
// that runs one instance's command as its child and outlives the agent, so the agent can
// restart or be killed without stopping instances. It holds the child's stdin and output,
// runs the stop sequence itself (a stop survives an agent restart), and leaves the exit
// status in a file. The agent talks to it over a unix socket in the state directory, one
// JSON object per line.
#include <filesystem>
#include <string>

namespace agent {

// Files of a supervisor's state directory.
namespace supervisor_files {
inline constexpr const char* kWorkload = "workload.json";  // written by the agent before start
inline constexpr const char* kState = "state.json";        // pids and start time, once the child runs
inline constexpr const char* kExit = "exit.json";          // the exit status, once it ended
inline constexpr const char* kSocket = "sock";
inline constexpr const char* kConsoleLog = "console.log";
}  // namespace supervisor_files

// Entry point of the supervise mode; returns the process exit code.
int supervise(const std::filesystem::path& state_dir, const std::filesystem::path& root);

}  // namespace agent
