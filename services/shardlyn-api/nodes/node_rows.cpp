#include "nodes/node_rows.hpp"

#include <boost/json.hpp>

namespace shardlyn::node_rows {

namespace {

namespace json = boost::json;

constexpr std::string_view kColumns =
    "SELECT n.id, n.org_id, n.name, n.labels, n.hostname, n.os, n.arch, n.cpu_count, n.memory_bytes, n.disk_bytes, "
    "n.agent_version, n.drivers, n.cordoned, n.drain_started_at, n.drain_deadline_at, n.desired_version, "
    "n.applied_version, n.last_heartbeat_at, n.registered_at, n.updated_at, "
    "m.at, m.cpu_usage, m.memory_used, m.memory_total, m.disk_used, m.disk_total, m.rx_bytes, m.tx_bytes, m.load_one "
    "FROM nodes n LEFT JOIN node_metrics m ON m.rowid = "
    "(SELECT rowid FROM node_metrics WHERE node_id = n.id ORDER BY at DESC LIMIT 1) ";

constexpr std::string_view kPointColumns =
    "at, cpu_usage, memory_used, memory_total, disk_used, disk_total, rx_bytes, tx_bytes, load_one";

std::uint64_t u64(const store::Statement& q, int column) { return static_cast<std::uint64_t>(q.int64(column)); }

MetricsPoint point_from(const store::Statement& q, int first) {
  return {q.int64(first),          q.real(first + 1),      u64(q, first + 2),
          u64(q, first + 3),       u64(q, first + 4),      u64(q, first + 5),
          u64(q, first + 6),       u64(q, first + 7),      q.real(first + 8)};
}

NodeRecord from_row(const store::Statement& q) {
  NodeRecord n;
  n.id = q.text(0);
  n.org_id = q.text(1);
  n.name = q.text(2);
  auto labels = json::parse(q.text(3));
  for (const auto& [k, v] : labels.as_object()) n.labels.emplace(k, v.as_string());
  n.hostname = q.text(4);
  n.os = q.text(5);
  n.arch = q.text(6);
  n.cpu_count = static_cast<std::uint32_t>(q.int64(7));
  n.memory_bytes = u64(q, 8);
  n.disk_bytes = u64(q, 9);
  n.agent_version = q.text(10);
  auto drivers = json::parse(q.text(11));
  for (const auto& d : drivers.as_array()) n.drivers.emplace_back(d.as_string());
  n.cordoned = q.int64(12) != 0;
  n.drain_started_at = q.int64_or_null(13);
  n.drain_deadline_at = q.int64_or_null(14);
  n.desired_version = u64(q, 15);
  n.applied_version = u64(q, 16);
  n.last_heartbeat_at = q.int64_or_null(17);
  n.registered_at = q.int64(18);
  n.updated_at = q.int64(19);
  if (!q.is_null(20)) n.metrics = point_from(q, 20);
  return n;
}

std::string labels_json(const std::map<std::string, std::string>& labels) {
  json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return json::serialize(o);
}

}  // namespace

std::vector<NodeRecord> list(store::Connection& db, std::string_view org_id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE n.org_id = ? ORDER BY n.registered_at, n.id");
  q->bind_all(org_id);
  std::vector<NodeRecord> out;
  while (q->step()) out.push_back(from_row(*q));
  return out;
}

std::optional<NodeRecord> find(store::Connection& db, std::string_view org_id, std::string_view id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE n.org_id = ? AND n.id = ?");
  q->bind_all(org_id, id);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

std::optional<AgentIdentity> by_agent_token(store::Connection& db, std::string_view token_hash) {
  auto q = db.prepare("SELECT id, org_id FROM nodes WHERE agent_token_hash = ?");
  q->bind_all(token_hash);
  if (!q->step()) return std::nullopt;
  return AgentIdentity{q->text(0), q->text(1)};
}

void insert(store::Connection& db, const NodeRecord& n, std::string_view agent_token_hash) {
  db.execute(
      "INSERT INTO nodes (id, org_id, name, labels, hostname, os, arch, cpu_count, memory_bytes, disk_bytes, "
      "agent_version, drivers, agent_token_hash, registered_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      n.id, n.org_id, n.name, labels_json(n.labels), n.hostname, n.os, n.arch, n.cpu_count,
      static_cast<std::int64_t>(n.memory_bytes), static_cast<std::int64_t>(n.disk_bytes), n.agent_version,
      json::serialize(json::value_from(n.drivers)), agent_token_hash, n.registered_at, n.updated_at);
}

bool rename(store::Connection& db, std::string_view org_id, std::string_view id, const std::string& name,
            const std::map<std::string, std::string>& labels, std::int64_t now) {
  return db.execute("UPDATE nodes SET name = ?, labels = ?, updated_at = ? WHERE org_id = ? AND id = ?", name,
                    labels_json(labels), now, org_id, id) > 0;
}

bool remove(store::Connection& db, std::string_view org_id, std::string_view id) {
  return db.execute("DELETE FROM nodes WHERE org_id = ? AND id = ?", org_id, id) > 0;
}

bool set_cordon(store::Connection& db, std::string_view org_id, std::string_view id, bool cordoned, std::int64_t now) {
  // Uncordoning ends a drain too: the node takes work again.
  return db.execute(
             "UPDATE nodes SET cordoned = ?1, updated_at = ?2, "
             "drain_started_at = CASE WHEN ?1 THEN drain_started_at END, "
             "drain_deadline_at = CASE WHEN ?1 THEN drain_deadline_at END, "
             "drain_enforced_at = CASE WHEN ?1 THEN drain_enforced_at END WHERE org_id = ?3 AND id = ?4",
             cordoned, now, org_id, id) > 0;
}

bool start_drain(store::Connection& db, std::string_view org_id, std::string_view id, std::int64_t deadline,
                 std::int64_t now) {
  return db.execute(
             "UPDATE nodes SET cordoned = 1, drain_started_at = ?1, drain_deadline_at = ?2, drain_enforced_at = NULL, "
             "updated_at = ?1 WHERE org_id = ?3 AND id = ?4",
             now, deadline, org_id, id) > 0;
}

std::vector<std::string> drains_past_deadline(store::Connection& db, std::int64_t now) {
  std::vector<std::string> out;
  auto q = db.prepare(
      "SELECT id FROM nodes WHERE drain_started_at IS NOT NULL AND drain_enforced_at IS NULL AND drain_deadline_at <= ?");
  q->bind_all(now);
  while (q->step()) out.push_back(q->text(0));
  return out;
}

void drain_enforced(store::Connection& db, std::string_view id, std::int64_t now) {
  db.execute("UPDATE nodes SET drain_enforced_at = ? WHERE id = ?", now, id);
}

void heartbeat(store::Connection& db, std::string_view node_id, const agentproto::Heartbeat& hb, std::int64_t now) {
  const auto& m = hb.metrics;
  db.execute("UPDATE nodes SET last_heartbeat_at = ?, applied_version = ? WHERE id = ?", now,
             static_cast<std::int64_t>(hb.desired_version), node_id);
  db.execute("INSERT INTO node_metrics (node_id, resolution, " + std::string(kPointColumns) +
                 ") VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             node_id, now, m.cpu.usage, static_cast<std::int64_t>(m.memory.used_bytes),
             static_cast<std::int64_t>(m.memory.total_bytes), static_cast<std::int64_t>(m.disk.used_bytes),
             static_cast<std::int64_t>(m.disk.total_bytes), static_cast<std::int64_t>(m.network.rx_bytes),
             static_cast<std::int64_t>(m.network.tx_bytes), m.load.one);
}

std::optional<std::uint64_t> bump_desired(store::Connection& db, std::string_view node_id) {
  auto v = db.query_int("UPDATE nodes SET desired_version = desired_version + 1 WHERE id = ? RETURNING desired_version",
                        node_id);
  if (!v) return std::nullopt;
  return static_cast<std::uint64_t>(*v);
}

std::optional<std::uint64_t> desired_version(store::Connection& db, std::string_view node_id) {
  auto v = db.query_int("SELECT desired_version FROM nodes WHERE id = ?", node_id);
  if (!v) return std::nullopt;
  return static_cast<std::uint64_t>(*v);
}

std::vector<MetricsPoint> metrics(store::Connection& db, std::string_view node_id, std::int64_t from, std::int64_t to,
                                  std::size_t limit) {
  auto q = db.prepare("SELECT " + std::string(kPointColumns) +
                      " FROM node_metrics WHERE node_id = ? AND at BETWEEN ? AND ? ORDER BY at LIMIT ?");
  q->bind_all(node_id, from, to, static_cast<std::int64_t>(limit));
  std::vector<MetricsPoint> out;
  while (q->step()) out.push_back(point_from(*q, 0));
  return out;
}

void downsample(store::Connection& db, std::int64_t raw_before, std::int64_t keep_after) {
  db.execute(
      "INSERT INTO node_metrics (node_id, at, resolution, " + std::string(kPointColumns) +
          ") SELECT node_id, (at / 300) * 300, 300, avg(cpu_usage), CAST(avg(memory_used) AS INTEGER), "
          "max(memory_total), CAST(avg(disk_used) AS INTEGER), max(disk_total), max(rx_bytes), max(tx_bytes), "
          "avg(load_one) FROM node_metrics WHERE resolution = 0 AND at < ? GROUP BY node_id, at / 300",
      raw_before);
  db.execute("DELETE FROM node_metrics WHERE resolution = 0 AND at < ?", raw_before);
  db.execute("DELETE FROM node_metrics WHERE resolution = 300 AND at < ?", keep_after);
}

void insert_register_token(store::Connection& db, const RegisterTokenRecord& t, std::string_view token_hash,
                           std::string_view created_by) {
  db.execute(
      "INSERT INTO node_register_tokens (id, org_id, token_hash, name, created_by, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      t.id, t.org_id, token_hash, t.name, created_by, t.created_at, t.expires_at);
}

std::optional<RegisterTokenRecord> spend_register_token(store::Connection& db, std::string_view token_hash,
                                                        std::string_view node_id, std::int64_t now) {
  auto q = db.prepare(
      "UPDATE node_register_tokens SET used_at = ?1, node_id = ?2 "
      "WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1 "
      "RETURNING id, org_id, name, created_at, expires_at");
  q->bind_all(now, node_id, token_hash);
  if (!q->step()) return std::nullopt;
  // SQLite makes every change of an UPDATE ... RETURNING at its first step (token_hash is unique).
  return RegisterTokenRecord{q->text(0), q->text(1), q->text_or_null(2), q->int64(3), q->int64(4)};
}

}  // namespace shardlyn::node_rows
