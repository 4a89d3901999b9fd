#pragma once
// Starting a helper process of the agent (a supervisor, a stdin holder) that outlives it: a
// double fork, so the helper is nobody's child but init's (or the subreaper's) and leads its own
// session; the agent's exit, its signals and its terminal do not reach it.
#include <string>
#include <vector>

namespace agent {

// argv[0] is the executable; stdio go to /dev/null. Throws RuntimeError when fork fails.
void spawn_detached(std::vector<std::string> argv);

}  // namespace agent
