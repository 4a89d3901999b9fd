#pragma once
// Agents: registration (idempotent per machine), per-agent tokens, heartbeats with a stored
// metrics history, and status derived from the last heartbeat.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/envelope.hpp"
#include "common/memo.hpp"
#include "store/database.hpp"

namespace manager {

struct AgentSettings {
  std::int64_t max_agents = 10000;
  std::int64_t stale_after_s = 90;
  std::int64_t offline_after_s = 300;
};

struct Registration {
  std::string hostname, os, arch, version;
  std::optional<std::string> ip, endpoint, machine_id;
  std::vector<std::string> tags;
};

struct Heartbeat {
  double cpu_usage = 0, mem_usage = 0;
  std::int64_t active_monitors = 0, threat_count = 0, events_processed = 0, uptime = 0;
  std::string mode;
  std::optional<std::string> version;
};

// A registered agent as the API shows it; `status` is derived from the last heartbeat.
struct Agent {
  std::string id, hostname, os, arch;
  std::optional<std::string> ip;
  std::string version;
  std::optional<std::string> machine_id, endpoint;
  std::vector<std::string> tags;
  std::optional<std::string> mode;                     // learning | protection, once a heartbeat said so
  std::int64_t registered_at = 0, last_heartbeat = 0;  // unix seconds
  std::string status;                                  // online | stale | offline
};

// One stored heartbeat.
struct MetricSample {
  std::int64_t at = 0;  // unix seconds
  double cpu_usage = 0, mem_usage = 0;
  std::int64_t active_monitors = 0, threat_count = 0, events_processed = 0;
  std::string mode;
  std::int64_t uptime = 0;
};

struct AgentFilter {
  std::optional<std::string> status, os, tag, search;
  common::PageRequest page;
};

class Agents {
 public:
  Agents(store::Database& db, AgentSettings settings) : db_(db), settings_(settings) {}

  struct Registered {
    Agent agent;
    std::string token;  // shown once
    bool created = false;
  };
  // A new agent, or the existing one (same machineId, else same hostname/os/arch) with a fresh
  // token. Throws ApiError 409 when the fleet is full.
  Registered enroll(const Registration& r);
  // Records a heartbeat; nullopt when the agent does not exist. `also` runs in the same write
  // (e.g. to read the agent's policy version for the answer without a read of its own).
  std::optional<Agent> heartbeat(const std::string& id, const Heartbeat& h,
                                 const std::function<void(store::Connection&)>& also = {});
  std::pair<std::vector<Agent>, std::int64_t> list(const AgentFilter& filter);
  std::optional<Agent> find(const std::string& id);
  bool remove(const std::string& id);
  // True when `token` is this agent's own token (constant-time comparison of hashes).
  bool token_matches(const std::string& id, std::string_view token);
  // The agent whose token this is, if any (for telling 403 from 401 on refused requests).
  std::optional<std::string> owner_of(std::string_view token);
  // A page of heartbeat samples since `since` (unix seconds), oldest first, with the total;
  // nullopt when the agent does not exist.
  std::optional<std::pair<std::vector<MetricSample>, std::int64_t>> metrics(const std::string& id, std::int64_t since,
                                                                            const common::PageRequest& page);

  struct Transition {
    std::string agent_id, hostname, from, to;
  };
  // Compares every agent's derived status with the last announced one, records and returns
  // the changes (for agent_online / agent_stale / agent_offline events).
  std::vector<Transition> sweep();
  struct PushTarget {
    std::string agent_id, endpoint, token_hash;
  };
  // Online agents that registered an endpoint for policy pushes.
  std::vector<PushTarget> push_targets();
  struct Counts {
    std::int64_t total = 0, online = 0, stale = 0, offline = 0;
    std::vector<std::pair<std::string, std::int64_t>> by_os;  // in order of first registration
  };
  Counts counts();
  std::int64_t total();

  // online / stale / offline for a last heartbeat at `last`, seen at `now`.
  std::string status_at(std::int64_t last, std::int64_t now) const;
  const AgentSettings& settings() const { return settings_; }

 private:
  store::Database& db_;
  AgentSettings settings_;
  // Token hash (or none) by agent id, valid for one generation: the sum of this process's
  // token changes (bumped after every commit that sets or deletes a token) and the commits by
  // other processes the database noticed, so a revocation counts from the next request on.
  common::Memo<std::optional<std::string>> token_hashes_;
  std::atomic<std::uint64_t> token_changes_{0};
  std::uint64_t token_generation() { return token_changes_.load() + db_.foreign_commits(); }
  // Bumps token_changes_ when it goes out of scope, after the write committed or failed.
  struct TokensChanged {
    Agents& agents;
    ~TokensChanged() { agents.token_changes_.fetch_add(1); }
  };
};

}  // namespace manager
