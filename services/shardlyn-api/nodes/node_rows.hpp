#pragma once
// The SQL of nodes/: the `nodes`, `node_register_tokens` and `node_metrics` tables (migration
// 0008) as typed records. Every query names the organisation it acts in, except those of the
// agent routes, which name the node its token belongs to.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agentproto/messages.hpp"
#include "store/connection.hpp"

namespace shardlyn {

// One heartbeat's metrics as kept (raw) or averaged over five minutes.
struct MetricsPoint {
  std::int64_t at = 0;
  double cpu_usage = 0;  // 0..1
  std::uint64_t memory_used = 0, memory_total = 0;
  std::uint64_t disk_used = 0, disk_total = 0;
  std::uint64_t rx_bytes = 0, tx_bytes = 0;
  double load_one = 0;
};

struct NodeRecord {
  std::string id;
  std::string org_id;
  std::string name;
  std::map<std::string, std::string> labels;
  std::string hostname, os, arch;
  std::uint32_t cpu_count = 0;
  std::uint64_t memory_bytes = 0, disk_bytes = 0;
  std::string agent_version;
  std::vector<std::string> drivers;
  bool cordoned = false;
  std::optional<std::int64_t> drain_started_at, drain_deadline_at;
  std::uint64_t desired_version = 0, applied_version = 0;
  std::optional<std::int64_t> last_heartbeat_at;
  std::optional<MetricsPoint> metrics;  // the newest point
  std::int64_t registered_at = 0, updated_at = 0;
};

struct RegisterTokenRecord {
  std::string id;
  std::string org_id;
  std::optional<std::string> name;
  std::int64_t created_at = 0, expires_at = 0;
};

namespace node_rows {

std::vector<NodeRecord> list(store::Connection& db, std::string_view org_id);
std::optional<NodeRecord> find(store::Connection& db, std::string_view org_id, std::string_view id);
// The node whose agent token has this digest.
struct AgentIdentity {
  std::string node_id, org_id;
};
std::optional<AgentIdentity> by_agent_token(store::Connection& db, std::string_view token_hash);

void insert(store::Connection& db, const NodeRecord& node, std::string_view agent_token_hash);
// False when the organisation holds no such node.
bool rename(store::Connection& db, std::string_view org_id, std::string_view id, const std::string& name,
            const std::map<std::string, std::string>& labels, std::int64_t now);
bool remove(store::Connection& db, std::string_view org_id, std::string_view id);
bool set_cordon(store::Connection& db, std::string_view org_id, std::string_view id, bool cordoned, std::int64_t now);
bool start_drain(store::Connection& db, std::string_view org_id, std::string_view id, std::int64_t deadline,
                 std::int64_t now);
// Draining nodes whose deadline passed and was not enforced yet; drain_enforced marks it done.
std::vector<std::string> drains_past_deadline(store::Connection& db, std::int64_t now);
void drain_enforced(store::Connection& db, std::string_view id, std::int64_t now);

// A heartbeat: the node's last contact and applied version, and a raw metrics point.
void heartbeat(store::Connection& db, std::string_view node_id, const agentproto::Heartbeat& hb, std::int64_t now);
// The next desired-state version of the node; nullopt when it does not exist.
std::optional<std::uint64_t> bump_desired(store::Connection& db, std::string_view node_id);
std::optional<std::uint64_t> desired_version(store::Connection& db, std::string_view node_id);

// Points of both resolutions in [from, to], oldest first, at most `limit`.
std::vector<MetricsPoint> metrics(store::Connection& db, std::string_view node_id, std::int64_t from, std::int64_t to,
                                  std::size_t limit);
// Raw points before `raw_before` become 5-minute averages; 5-minute points before `keep_after` go.
void downsample(store::Connection& db, std::int64_t raw_before, std::int64_t keep_after);

void insert_register_token(store::Connection& db, const RegisterTokenRecord& token, std::string_view token_hash,
                           std::string_view created_by);
// Spends an unused, unexpired token for `node_id`; nullopt when there is none to spend.
std::optional<RegisterTokenRecord> spend_register_token(store::Connection& db, std::string_view token_hash,
                                                        std::string_view node_id, std::int64_t now);

}  // namespace node_rows
}  // namespace shardlyn
