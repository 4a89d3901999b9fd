#pragma once
// The configuration files of a workload, rewritten in the instance root before each start with
// libs/workload's parsers (values already resolved by the API). A path is confined to the root:
// relative, no `..`, and no symbolic link on the way (a workload cannot aim the agent's write
// elsewhere). A file that does not exist yet is created from nothing.
#include <filesystem>
#include <vector>

#include "agentproto/messages.hpp"

namespace agent {

// Throws RuntimeError naming the file ("config_files[0] server.properties: ...").
void write_config_files(const std::filesystem::path& root, const std::vector<agentproto::ConfigFileSpec>& files);

}  // namespace agent
