#include "policies.hpp"

#include <charconv>
#include <set>

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "security/random.hpp"

namespace manager {

namespace {

namespace in = common::input;

// "203.0.113.9", "2001:db8::1", "198.51.100.0/24" or "2001:db8::/32".
bool ip_or_cidr(std::string_view text) {
  auto slash = text.find('/');
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return false;
  if (slash == std::string_view::npos) return true;
  auto bits = text.substr(slash + 1);
  int prefix = -1;
  auto [ptr, err] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  return err == std::errc() && ptr == bits.data() + bits.size() && prefix >= 0 &&
         prefix <= (address.is_v4() ? 32 : 128);
}

boost::json::object parse_rule(const boost::json::object& r) {
  boost::json::object out;
  out["ruleId"] = in::text(r, "ruleId", {.max = 64});
  std::string type = in::one_of(r, "type", {"block_ip", "alert_threshold", "auto_respond", "custom"});
  out["type"] = type;
  auto condition = in::optional_object(r, "condition");
  if (!condition) throw common::ApiError::validation("'condition' is required");
  boost::json::object cond;
  std::string action;
  if (type == "block_ip") {
    std::string ip = in::text(*condition, "ip", {.max = 64});
    if (!ip_or_cidr(ip)) throw common::ApiError::validation("'condition.ip' must be an IP address or CIDR range");
    cond["ip"] = ip;
    action = in::one_of(r, "action", {"block", "drop", "reject"});
  } else if (type == "alert_threshold") {
    cond["metric"] = in::text(*condition, "metric", {.max = 64});
    cond["threshold"] = in::number(*condition, "threshold", -1e15, 1e15);
    cond["windowSeconds"] = in::optional_integer(*condition, "windowSeconds", 1, 86400).value_or(60);
    action = in::one_of(r, "action", {"alert", "notify"});
  } else if (type == "auto_respond") {
    cond["category"] = in::text(*condition, "category", {.max = 64});
    cond["minConfidence"] = in::optional_integer(*condition, "minConfidence", 0, 100).value_or(0);
    action = in::one_of(r, "action", {"block_ip", "kill_process", "quarantine_file", "isolate_host"});
  } else {
    cond = *condition;  // custom rules carry their own condition shape
    if (boost::json::serialize(cond).size() > 16384)
      throw common::ApiError::validation("'condition' must be at most 16384 bytes of JSON");
    action = in::text(r, "action", {.max = 64});
  }
  out["condition"] = std::move(cond);
  out["action"] = action;
  out["severity"] = in::one_of(r, "severity", {"info", "low", "medium", "high", "critical"});
  out["description"] = in::optional_text(r, "description", {.min = 0, .max = 500, .single_line = false}).value_or("");
  out["enabled"] = in::optional_boolean(r, "enabled").value_or(true);
  return out;
}

constexpr const char* kColumns = "version, id, scope, name, description, rules, created_at";

Policy policy_from(const store::Statement& row) {
  return Policy{.id = row.text(1),
                .version = row.int64(0),
                .scope = row.text(2),
                .name = row.text(3),
                .description = row.text_or_null(4),
                .rules = boost::json::parse(row.text(5)).as_array(),
                .updated_at = row.int64(6)};
}

std::optional<Policy> load(store::Connection& c, std::int64_t version) {
  auto q = c.prepare(std::string("SELECT ") + kColumns + " FROM policies WHERE version = ?");
  q->bind_all(version);
  if (!q->step()) return std::nullopt;
  return policy_from(*q);
}

std::int64_t insert(store::Connection& c, const PolicyDraft& d, const char* scope) {
  std::int64_t version = c.query_int("SELECT coalesce(max(version), 0) + 1 FROM policies").value_or(1);
  c.execute(
      "INSERT INTO policies (version, id, scope, name, description, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      version, security::random_id("pol-", 8), scope, d.name, d.description, boost::json::serialize(d.rules),
      common::unix_seconds());
  return version;
}

void require_agent(store::Connection& c, const std::string& agent_id) {
  if (!c.query_int("SELECT 1 FROM agents WHERE id = ?", agent_id)) throw common::ApiError::not_found("agent not found");
}

std::optional<std::int64_t> active_version(store::Connection& c) {
  return c.query_int("SELECT max(version) FROM policies WHERE scope = 'fleet'");
}

}  // namespace

PolicyDraft parse_policy(const boost::json::object& body) {
  PolicyDraft d;
  d.name = in::text(body, "name", {.max = 128});
  d.description = in::optional_text(body, "description", {.min = 0, .max = 2000, .single_line = false});
  auto* rules = body.if_contains("rules");
  if (!rules || !rules->is_array()) throw common::ApiError::validation("'rules' must be an array");
  if (rules->as_array().size() > 500) throw common::ApiError::validation("'rules' must have at most 500 items");
  std::set<std::string> ids;
  std::size_t i = 0;
  for (const auto& r : rules->as_array()) {
    try {
      if (!r.is_object()) throw common::ApiError::validation("must be an object");
      auto rule = parse_rule(r.as_object());
      if (!ids.insert(std::string(rule["ruleId"].as_string())).second)
        throw common::ApiError::validation("'ruleId' must be unique within the policy");
      d.rules.push_back(std::move(rule));
    } catch (const common::ApiError& e) {
      throw common::ApiError::validation("rules[" + std::to_string(i) + "]: " + e.what());
    }
    ++i;
  }
  return d;
}

Policy Policies::publish(const PolicyDraft& draft) {
  return db_.write([&](store::Connection& c) {
    auto policy = *load(c, insert(c, draft, "fleet"));
    policy.applied_to =
        c.query_int("SELECT count(*) FROM agents WHERE id NOT IN (SELECT agent_id FROM agent_policies)").value_or(0);
    return policy;
  });
}

std::optional<Policy> Policies::active() {
  return db_.read([&](store::Connection& c) -> std::optional<Policy> {
    auto v = active_version(c);
    if (!v) return std::nullopt;
    return load(c, *v);
  });
}

std::pair<std::vector<Policy>, std::int64_t> Policies::history(const common::PageRequest& page) {
  return db_.read([&](store::Connection& c) {
    std::int64_t total = c.query_int("SELECT count(*) FROM policies WHERE scope = 'fleet'").value_or(0);
    auto q = c.prepare(std::string("SELECT ") + kColumns +
                       " FROM policies WHERE scope = 'fleet' ORDER BY version DESC LIMIT ? OFFSET ?");
    q->bind_all(page.limit, page.offset());
    std::vector<Policy> items;
    while (q->step()) items.push_back(policy_from(*q));
    return std::make_pair(std::move(items), total);
  });
}

std::optional<Policy> Policies::for_agent(const std::string& agent_id) {
  return db_.read([&](store::Connection& c) -> std::optional<Policy> {
    require_agent(c, agent_id);
    auto v = c.query_int("SELECT version FROM agent_policies WHERE agent_id = ?", agent_id);
    if (!v) v = active_version(c);
    if (!v) return std::nullopt;
    return load(c, *v);
  });
}

Policy Policies::override_for(const std::string& agent_id, const PolicyDraft& draft) {
  return db_.write([&](store::Connection& c) {
    require_agent(c, agent_id);
    std::int64_t version = insert(c, draft, "agent");
    c.execute(
        "INSERT INTO agent_policies (agent_id, version) VALUES (?, ?) "
        "ON CONFLICT (agent_id) DO UPDATE SET version = excluded.version",
        agent_id, version);
    auto policy = *load(c, version);
    policy.applied_to = 1;
    return policy;
  });
}

bool Policies::clear_override(const std::string& agent_id) {
  return db_.write([&](store::Connection& c) {
    require_agent(c, agent_id);
    return c.execute("DELETE FROM agent_policies WHERE agent_id = ?", agent_id) > 0;
  });
}

std::int64_t Policies::version_for(const std::string& agent_id) {
  return db_.read([&](store::Connection& c) { return version_for(c, agent_id); });
}

std::int64_t Policies::version_for(store::Connection& c, const std::string& agent_id) {
  auto v = c.query_int("SELECT version FROM agent_policies WHERE agent_id = ?", agent_id);
  if (!v) v = active_version(c);
  return v.value_or(0);
}

}  // namespace manager
