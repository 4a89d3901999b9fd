#pragma once
// Git deploy (decision 0038): an instance's git configuration, its syncs as jobs run by the
// node's agent (agentproto git_sync, the git CLI on the node), the post-sync action through the
// instance's power and console paths, and the webhook deliveries that trigger syncs. The token
// or SSH key is sealed and never returned; the webhook secret is shown when it is made (on the
// first PUT, or a PUT with rotate_webhook_secret) and never again.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agentproto/messages.hpp"
#include "common/envelope.hpp"
#include "http/access.hpp"
#include "nodes/runtime_seams.hpp"
#include "store/database.hpp"
#include "tunnel/console_feeds.hpp"
#include "tunnel/hub.hpp"

namespace shardlyn {

enum class PostSync { None, Restart, Command };
const char* to_string(PostSync action);

struct GitConfigInput {
  std::string repository;
  std::string branch = "main";
  std::string target;  // inside the instance root; "" = the root
  agentproto::GitAuth auth = agentproto::GitAuth::None;
  std::optional<std::string> credential;  // absent: the stored one stays (same auth kind)
  bool auto_sync = true;
  PostSync post_sync = PostSync::None;
  std::string post_command;
  std::uint32_t timeout_s = 300;
  bool rotate_secret = false;
};

struct GitConfig {
  std::string instance_id, org_id, repository, branch, target;
  agentproto::GitAuth auth = agentproto::GitAuth::None;
  bool credential_set = false, auto_sync = true;
  PostSync post_sync = PostSync::None;
  std::string post_command;
  std::uint32_t timeout_s = 300;
  std::int64_t created_at = 0, updated_at = 0;
};

// A PUT's outcome: the webhook secret only when it was made by this PUT.
struct SavedGitConfig {
  GitConfig config;
  bool created = false;
  std::optional<std::string> webhook_secret;
};

struct GitSyncRecord {
  std::string id, instance_id, state, trigger, actor;  // state running | succeeded | failed
  std::optional<std::string> commit;
  std::string output, error, post_sync, post_result;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> finished_at;
};

// A push as a webhook delivered it: the repository's URLs as the provider names them, its ref.
struct WebhookPush {
  std::string provider;  // github | gitlab (the sync's trigger)
  std::vector<std::string> repositories;
  std::string ref;       // refs/heads/<branch>
  bool ping = false;     // answered without syncing
  // Whether the delivery was signed with this configuration's secret (constant time).
  std::function<bool(const std::string& secret)> signed_with;
};

struct WebhookOutcome {
  std::vector<std::pair<std::string, std::string>> triggered;  // {instance id, sync id}
  std::vector<std::string> skipped;                            // "<instance id>: why"
};

// The key webhooks match a repository by: no scheme, user or `.git`, the host in lower case,
// `host:path` as `host/path`.
std::string repository_key(std::string_view url);

class GitDeploys {
 public:
  static constexpr std::size_t kHistoryKept = 100;  // syncs kept per instance
  GitDeploys(store::Database& db, InstanceControl& instances, ConsoleFeeds& consoles, TunnelHub& hub,
             const std::string& key32);

  // 404 unless the instance is the caller's organisation's (before a body is even read).
  void require_instance(const Caller& caller, const std::string& instance_id) const { instance(caller, instance_id); }
  GitConfig get(const Caller& caller, const std::string& instance_id) const;
  SavedGitConfig put(const Caller& caller, const std::string& instance_id, const GitConfigInput& input);
  void remove(const Caller& caller, const std::string& instance_id);
  // Starts a sync (the record, running); 409 while one runs or when the node has no tunnel.
  GitSyncRecord sync(const Caller& caller, const std::string& instance_id);
  // The last sync (nullopt: none yet); 404 without a configuration.
  std::optional<GitSyncRecord> status(const Caller& caller, const std::string& instance_id) const;
  std::pair<std::vector<GitSyncRecord>, std::int64_t> history(const Caller& caller, const std::string& instance_id,
                                                              const common::PageRequest& page) const;
  // A webhook delivery: 401 unless it is signed with the secret of a configuration of one of
  // its repositories; those with auto_sync on and the pushed branch get a sync.
  WebhookOutcome deliver(const WebhookPush& push);

 private:
  struct Job {
    std::string sync_id, org_id, instance_id, node_id;
    PostSync post_sync = PostSync::None;
    std::string post_command;
  };
  InstanceRef instance(const Caller& caller, const std::string& instance_id) const;
  GitSyncRecord start(const InstanceRef& instance, const std::string& trigger, const std::string& actor);
  void finish(const Job& job, agentproto::TunnelResponse response);
  std::string post_action(const Job& job);
  std::string seal(const std::string& instance_id, std::string_view what, const std::string& plain) const;
  std::string open(const std::string& instance_id, std::string_view what, const std::string& sealed) const;

  store::Database& db_;
  InstanceControl& instances_;
  ConsoleFeeds& consoles_;
  TunnelHub& hub_;
  std::string key_;
};

}  // namespace shardlyn
