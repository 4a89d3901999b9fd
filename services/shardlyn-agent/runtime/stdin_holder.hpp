#pragma once
// The stdin holder of a container: a small process (`shardlyn-agent hold-stdin <docker socket>
// <container id> <dir>`) that keeps the container's stdin attach open and outlives the agent.
// Podman closes a container's stdin when the attach that wrote to it goes away, so a server
// reading its console would see end of input when the agent is killed; the holder keeps it
// open, and the agent writes console lines to it through the unix socket dir/sock. It ends
// when the engine closes the attach (the container ended or was removed).
#include <filesystem>
#include <string>

namespace agent {

namespace stdin_holder_files {
inline constexpr const char* kSocket = "sock";
}

// Entry point of the hold-stdin mode; returns the process exit code.
int hold_stdin(const std::string& docker_socket, const std::string& container, const std::filesystem::path& dir);

}  // namespace agent
