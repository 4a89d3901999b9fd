#include "agents.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"

namespace manager {

namespace {

constexpr const char* kColumns =
    "id, hostname, os, arch, ip, version, machine_id, endpoint, tags, mode, registered_at, last_heartbeat";

std::string json_list(const std::vector<std::string>& items) {
  return boost::json::serialize(boost::json::value_from(items));
}

}  // namespace

std::string Agents::status_at(std::int64_t last, std::int64_t now) const {
  std::int64_t age = now - last;
  if (age <= settings_.stale_after_s) return "online";
  if (age <= settings_.offline_after_s) return "stale";
  return "offline";
}

// An agent from a row selected with kColumns.
static Agent agent_from(const store::Statement& row, const Agents& agents, std::int64_t now) {
  return Agent{.id = row.text(0),
               .hostname = row.text(1),
               .os = row.text(2),
               .arch = row.text(3),
               .ip = row.text_or_null(4),
               .version = row.text(5),
               .machine_id = row.text_or_null(6),
               .endpoint = row.text_or_null(7),
               .tags = boost::json::value_to<std::vector<std::string>>(boost::json::parse(row.text(8))),
               .mode = row.text_or_null(9),
               .registered_at = row.int64(10),
               .last_heartbeat = row.int64(11),
               .status = agents.status_at(row.int64(11), now)};
}

Agents::Registered Agents::enroll(const Registration& r) {
  std::string token = "agt_" + security::random_token(32);
  std::string token_hash = security::sha256_hex(token);
  std::int64_t now = common::unix_seconds();
  TokensChanged changed{*this};
  return db_.write([&](store::Connection& c) {
    std::optional<std::string> existing;
    if (r.machine_id)
      existing = c.query_text("SELECT id FROM agents WHERE machine_id = ?", *r.machine_id);
    else
      existing = c.query_text("SELECT id FROM agents WHERE machine_id IS NULL AND hostname = ? AND os = ? AND arch = ?",
                              r.hostname, r.os, r.arch);
    Registered out;
    out.token = token;
    std::string id;
    if (existing) {
      id = *existing;
      c.execute(
          "UPDATE agents SET hostname = ?, os = ?, arch = ?, ip = ?, version = ?, endpoint = ?, tags = ?, "
          "token_hash = ?, last_heartbeat = ? WHERE id = ?",
          r.hostname, r.os, r.arch, r.ip, r.version, r.endpoint, json_list(r.tags), token_hash, now, id);
    } else {
      if (c.query_int("SELECT count(*) FROM agents").value_or(0) >= settings_.max_agents)
        throw common::ApiError::conflict("the fleet is full: MANAGER_MAX_AGENTS agents are registered");
      id = security::random_id("ag-", 12);
      c.execute(
          "INSERT INTO agents (id, hostname, os, arch, ip, version, machine_id, endpoint, tags, token_hash, "
          "registered_at, last_heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          id, r.hostname, r.os, r.arch, r.ip, r.version, r.machine_id, r.endpoint, json_list(r.tags), token_hash, now,
          now);
      out.created = true;
    }
    auto q = c.prepare(std::string("SELECT ") + kColumns + " FROM agents WHERE id = ?");
    q->bind_all(id);
    q->step();
    out.agent = agent_from(*q, *this, now);
    return out;
  });
}

std::optional<Agent> Agents::heartbeat(const std::string& id, const Heartbeat& h,
                                       const std::function<void(store::Connection&)>& also) {
  std::int64_t now = common::unix_seconds();
  return db_.write([&](store::Connection& c) -> std::optional<Agent> {
    // (UPDATE ... RETURNING costs more than the UPDATE and a SELECT by primary key.)
    int changed = h.version ? c.execute("UPDATE agents SET last_heartbeat = ?, mode = ?, version = ? WHERE id = ?", now,
                                        h.mode, *h.version, id)
                            : c.execute("UPDATE agents SET last_heartbeat = ?, mode = ? WHERE id = ?", now, h.mode, id);
    if (changed == 0) return std::nullopt;
    c.execute(
        "INSERT INTO agent_metrics (agent_id, at, cpu_usage, mem_usage, active_monitors, threat_count, "
        "events_processed, mode, uptime) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, now, h.cpu_usage, h.mem_usage, h.active_monitors, h.threat_count, h.events_processed, h.mode, h.uptime);
    static const std::string select = std::string("SELECT ") + kColumns + " FROM agents WHERE id = ?";
    auto q = c.prepare(select);
    q->bind_all(id);
    q->step();
    auto agent = agent_from(*q, *this, now);
    if (also) also(c);
    return agent;
  });
}

std::pair<std::vector<Agent>, std::int64_t> Agents::list(const AgentFilter& f) {
  std::int64_t now = common::unix_seconds();
  std::string where = " WHERE 1 = 1";
  if (f.status == "online")
    where += " AND last_heartbeat >= :stale";
  else if (f.status == "stale")
    where += " AND last_heartbeat < :stale AND last_heartbeat >= :offline";
  else if (f.status == "offline")
    where += " AND last_heartbeat < :offline";
  if (f.os) where += " AND os = :os";
  if (f.tag) where += " AND EXISTS (SELECT 1 FROM json_each(agents.tags) WHERE value = :tag)";
  if (f.search)
    where +=
        " AND (instr(lower(hostname), lower(:search)) > 0 OR instr(id, :search) > 0 OR instr(coalesce(ip, ''), :search) "
        "> 0)";
  auto bind = [&](store::Statement& s) {
    auto has = [&](const char* name) { return s.sql().find(name) != std::string::npos; };
    if (has(":stale")) s.bind(":stale", now - settings_.stale_after_s);
    if (has(":offline")) s.bind(":offline", now - settings_.offline_after_s);
    if (f.os) s.bind(":os", *f.os);
    if (f.tag) s.bind(":tag", *f.tag);
    if (f.search) s.bind(":search", *f.search);
  };
  return db_.read([&](store::Connection& c) {
    auto count = c.prepare("SELECT count(*) FROM agents" + where);
    bind(*count);
    count->step();
    std::int64_t total = count->int64(0);
    auto q = c.prepare(std::string("SELECT ") + kColumns + " FROM agents" + where +
                       " ORDER BY registered_at, id LIMIT :limit OFFSET :offset");
    bind(*q);
    q->bind(":limit", f.page.limit);
    q->bind(":offset", f.page.offset());
    std::vector<Agent> items;
    while (q->step()) items.push_back(agent_from(*q, *this, now));
    return std::make_pair(std::move(items), total);
  });
}

std::optional<Agent> Agents::find(const std::string& id) {
  std::int64_t now = common::unix_seconds();
  return db_.read([&](store::Connection& c) -> std::optional<Agent> {
    auto q = c.prepare(std::string("SELECT ") + kColumns + " FROM agents WHERE id = ?");
    q->bind_all(id);
    if (!q->step()) return std::nullopt;
    return agent_from(*q, *this, now);
  });
}

std::vector<Agents::Transition> Agents::sweep() {
  std::int64_t now = common::unix_seconds();
  return db_.write([&](store::Connection& c) {
    std::vector<Transition> changes;
    {
      auto q = c.prepare("SELECT id, hostname, last_heartbeat, last_status FROM agents");
      while (q->step()) {
        std::string status = status_at(q->int64(2), now);
        if (status != q->text(3)) changes.push_back({q->text(0), q->text(1), q->text(3), status});
      }
    }
    for (const auto& t : changes) c.execute("UPDATE agents SET last_status = ? WHERE id = ?", t.to, t.agent_id);
    return changes;
  });
}

std::vector<Agents::PushTarget> Agents::push_targets() {
  std::int64_t online_since = common::unix_seconds() - settings_.stale_after_s;
  return db_.read([&](store::Connection& c) {
    std::vector<PushTarget> out;
    auto q = c.prepare(
        "SELECT id, endpoint, token_hash FROM agents WHERE endpoint IS NOT NULL AND last_heartbeat >= ? ORDER BY id");
    q->bind_all(online_since);
    while (q->step()) out.push_back({q->text(0), q->text(1), q->text(2)});
    return out;
  });
}

Agents::Counts Agents::counts() {
  std::int64_t now = common::unix_seconds();
  return db_.read([&](store::Connection& c) {
    Counts out;
    auto q = c.prepare("SELECT os, last_heartbeat FROM agents");
    while (q->step()) {
      ++out.total;
      std::string status = status_at(q->int64(1), now);
      (status == "online" ? out.online : status == "stale" ? out.stale : out.offline)++;
      std::string os = q->text(0);
      auto known = std::find_if(out.by_os.begin(), out.by_os.end(), [&](const auto& e) { return e.first == os; });
      if (known == out.by_os.end())
        out.by_os.emplace_back(std::move(os), 1);
      else
        ++known->second;
    }
    return out;
  });
}

std::int64_t Agents::total() {
  return db_.read([](store::Connection& c) { return c.query_int("SELECT count(*) FROM agents").value_or(0); });
}

bool Agents::remove(const std::string& id) {
  TokensChanged changed{*this};
  return db_.write([&](store::Connection& c) { return c.execute("DELETE FROM agents WHERE id = ?", id) > 0; });
}

bool Agents::token_matches(const std::string& id, std::string_view token) {
  // From memory while no token changed (heartbeats, the hot path, leave tokens alone).
  const std::uint64_t generation = token_generation();
  std::optional<std::string> stored;
  if (auto known = token_hashes_.get(id, generation)) {
    stored = *known;
  } else {
    stored =
        db_.read([&](store::Connection& c) { return c.query_text("SELECT token_hash FROM agents WHERE id = ?", id); });
    token_hashes_.put(id, stored, generation);
  }
  // Hash first so the comparison time does not depend on whether the agent exists.
  std::string presented = security::sha256_hex(token);
  return stored && security::constant_time_equal(presented, *stored);
}

std::optional<std::string> Agents::owner_of(std::string_view token) {
  std::string hash = security::sha256_hex(token);
  return db_.read(
      [&](store::Connection& c) { return c.query_text("SELECT id FROM agents WHERE token_hash = ?", hash); });
}

std::optional<std::pair<std::vector<MetricSample>, std::int64_t>> Agents::metrics(const std::string& id,
                                                                                  std::int64_t since,
                                                                                  const common::PageRequest& page) {
  return db_.read([&](store::Connection& c) -> std::optional<std::pair<std::vector<MetricSample>, std::int64_t>> {
    if (!c.query_int("SELECT 1 FROM agents WHERE id = ?", id)) return std::nullopt;
    std::int64_t total =
        c.query_int("SELECT count(*) FROM agent_metrics WHERE agent_id = ? AND at >= ?", id, since).value_or(0);
    auto q = c.prepare(
        "SELECT at, cpu_usage, mem_usage, active_monitors, threat_count, events_processed, mode, uptime "
        "FROM agent_metrics WHERE agent_id = ? AND at >= ? ORDER BY at, rowid LIMIT ? OFFSET ?");
    q->bind_all(id, since, page.limit, page.offset());
    std::vector<MetricSample> out;
    while (q->step())
      out.push_back({.at = q->int64(0),
                     .cpu_usage = q->real(1),
                     .mem_usage = q->real(2),
                     .active_monitors = q->int64(3),
                     .threat_count = q->int64(4),
                     .events_processed = q->int64(5),
                     .mode = q->text(6),
                     .uptime = q->int64(7)});
    return std::make_pair(std::move(out), total);
  });
}

}  // namespace manager
