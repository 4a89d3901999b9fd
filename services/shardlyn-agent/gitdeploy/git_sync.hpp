#pragma once
// A git_sync request on the node (decision 0038): the git CLI brings an instance's target folder
// to the head of a branch. The first sync initialises the folder and fetches (so a folder that
// already holds files works too), every sync fetches the branch's head (--depth 1) and resets
// hard to it; untracked files (worlds, logs) stay. Credentials never reach a command line or a
// URL: a token goes in an http.extraHeader through GIT_CONFIG_COUNT/KEY/VALUE, an SSH key in a
// 0600 file named by GIT_SSH_COMMAND (IdentitiesOnly), removed afterwards. Refusals are
// RequestRefused: instance_not_found, target_not_confined, git_failed, git_timeout.
#include <cstddef>
#include <filesystem>
#include <string>

#include <boost/json/object.hpp>

#include "agentproto/messages.hpp"

namespace agent {

struct GitSyncResult {
  std::string commit;  // the 40-hex commit the folder holds now
  bool first = false;  // the folder was not a repository before
  std::string output;  // git's output (stdout and stderr), at most kGitOutputBytes (the end)
};

inline constexpr std::size_t kGitOutputBytes = 16 * 1024;

// `instances_dir` holds the instance roots (instances/<id>/). The target is confined to the
// root: every folder on the way is checked not to be a symlink (created when missing).
GitSyncResult sync_repository(const std::filesystem::path& instances_dir, const agentproto::GitSyncSpec& spec);

boost::json::object git_result_json(const GitSyncResult& result);

}  // namespace agent
