#include <algorithm>
#include <filesystem>

#include <boost/json.hpp>

#include "admin/administration.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "store/backups.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::string_view kPlanColumns =
    "SELECT id, name, price_cents, currency, max_nodes, max_instances, max_memory_mb, active, created_at FROM plans ";
constexpr std::string_view kSubscriptionColumns =
    "SELECT s.id, s.org_id, o.name, s.plan_id, p.name, s.status, s.created_at, s.updated_at FROM subscriptions s "
    "JOIN organizations o ON o.id = s.org_id JOIN plans p ON p.id = s.plan_id ";

Plan plan_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.int64(2), q.text(3), q.int64(4), q.int64(5), q.int64(6), q.int64(7) != 0, q.int64(8)};
}
Subscription subscription_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.int64(6), q.int64(7)};
}

std::optional<Plan> find_plan(store::Connection& db, std::string_view id) {
  auto q = db.prepare(std::string(kPlanColumns) + "WHERE id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return plan_from_row(*q);
}

std::optional<Subscription> find_subscription(store::Connection& db, std::string_view id) {
  auto q = db.prepare(std::string(kSubscriptionColumns) + "WHERE s.id = ?");
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return subscription_from_row(*q);
}

}  // namespace

PlatformMetrics Administration::metrics() {
  return db_.read([&](store::Connection& db) {
    std::int64_t now = store::unix_now();
    auto count = [&](std::string_view sql) { return db.query_int(sql, now).value_or(0); };
    return PlatformMetrics{
        .users = count("SELECT COUNT(*) FROM users WHERE ?1 IS NOT NULL"),
        .suspended_users = count("SELECT COUNT(*) FROM users WHERE suspended = 1 AND ?1 IS NOT NULL"),
        .platform_admins = count("SELECT COUNT(*) FROM users WHERE platform_admin = 1 AND ?1 IS NOT NULL"),
        .organizations = count("SELECT COUNT(*) FROM organizations WHERE ?1 IS NOT NULL"),
        .live_sessions = count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1"),
        .active_api_tokens = count(
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)"),
        .pending_invites = count("SELECT COUNT(*) FROM invites WHERE expires_at > ?1"),
        .audit_events_24h = count("SELECT COUNT(*) FROM audit_log WHERE at > ?1 - 86400"),
        .failed_logins_24h =
            count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND at > ?1 - 86400"),
    };
  });
}

std::pair<std::vector<Organization>, std::int64_t> Administration::organizations(std::int64_t limit,
                                                                                 std::int64_t offset) {
  return db_.read([&](store::Connection& db) { return organizations::all(db, limit, offset); });
}

std::pair<Organization, std::vector<Member>> Administration::organization(std::string_view id) {
  auto detail = db_.read([&](store::Connection& db) -> std::optional<std::pair<Organization, std::vector<Member>>> {
    auto org = organizations::find(db, id);
    if (!org) return std::nullopt;
    return std::make_pair(*org, organizations::members(db, id));
  });
  if (!detail) throw common::ApiError::not_found("organization not found");
  return *detail;
}

std::vector<Plan> Administration::plans() {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kPlanColumns) + "ORDER BY price_cents, name");
    std::vector<Plan> out;
    while (q->step()) out.push_back(plan_from_row(*q));
    return out;
  });
}

Plan Administration::create_plan(const Caller& caller, const Plan& plan) {
  return db_.write([&](store::Connection& db) {
    if (db.query_int("SELECT 1 FROM plans WHERE name = ?", plan.name))
      throw common::ApiError::conflict("a plan with this name exists");
    std::string id = security::uuid_v4();
    std::int64_t now = store::unix_now();
    db.execute(
        "INSERT INTO plans (id, name, price_cents, currency, max_nodes, max_instances, max_memory_mb, active, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, plan.name, plan.price_cents, plan.currency, plan.max_nodes, plan.max_instances, plan.max_memory_mb,
        plan.active, now, now);
    audit::record(db, "admin.plan_created", caller.actor(), {}, {}, {{"plan_id", id}, {"name", plan.name}});
    return *find_plan(db, id);
  });
}

Plan Administration::update_plan(const Caller& caller, std::string_view id, const json::object& changes) {
  return db_.write([&](store::Connection& db) {
    auto plan = find_plan(db, id);
    if (!plan) throw common::ApiError::not_found("plan not found");
    auto text = [&](const char* k, std::string& into) {
      if (auto* v = changes.if_contains(k)) into = std::string(v->as_string());
    };
    auto integer = [&](const char* k, std::int64_t& into) {
      if (auto* v = changes.if_contains(k)) into = v->to_number<std::int64_t>();
    };
    text("name", plan->name);
    text("currency", plan->currency);
    integer("price_cents", plan->price_cents);
    integer("max_nodes", plan->max_nodes);
    integer("max_instances", plan->max_instances);
    integer("max_memory_mb", plan->max_memory_mb);
    if (auto* v = changes.if_contains("active")) plan->active = v->as_bool();
    if (db.query_int("SELECT 1 FROM plans WHERE name = ? AND id != ?", plan->name, id))
      throw common::ApiError::conflict("a plan with this name exists");
    db.execute(
        "UPDATE plans SET name = ?, price_cents = ?, currency = ?, max_nodes = ?, max_instances = ?, "
        "max_memory_mb = ?, active = ?, updated_at = ? WHERE id = ?",
        plan->name, plan->price_cents, plan->currency, plan->max_nodes, plan->max_instances, plan->max_memory_mb,
        plan->active, store::unix_now(), id);
    audit::record(db, "admin.plan_updated", caller.actor(), {}, {}, {{"plan_id", id}});
    return *plan;
  });
}

void Administration::delete_plan(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (!find_plan(db, id)) throw common::ApiError::not_found("plan not found");
    if (id == kFreePlan) throw common::ApiError::conflict("the default plan cannot be deleted");
    if (db.query_int("SELECT 1 FROM subscriptions WHERE plan_id = ?", id))
      throw common::ApiError::conflict("organizations are subscribed to this plan");
    db.execute("DELETE FROM plans WHERE id = ?", id);
    audit::record(db, "admin.plan_deleted", caller.actor(), {}, {}, {{"plan_id", id}});
  });
}

std::pair<std::vector<Subscription>, std::int64_t> Administration::subscriptions(std::int64_t limit,
                                                                                 std::int64_t offset) {
  return db_.read([&](store::Connection& db) {
    std::int64_t total = db.query_int("SELECT COUNT(*) FROM subscriptions").value_or(0);
    auto q = db.prepare(std::string(kSubscriptionColumns) + "ORDER BY s.created_at, s.id LIMIT ? OFFSET ?");
    q->bind_all(limit, offset);
    std::vector<Subscription> out;
    while (q->step()) out.push_back(subscription_from_row(*q));
    return std::make_pair(std::move(out), total);
  });
}

Subscription Administration::update_subscription(const Caller& caller, std::string_view id,
                                                 const std::optional<std::string>& plan_id,
                                                 const std::optional<std::string>& status) {
  return db_.write([&](store::Connection& db) {
    auto sub = find_subscription(db, id);
    if (!sub) throw common::ApiError::not_found("subscription not found");
    if (plan_id && !find_plan(db, *plan_id)) throw common::ApiError::validation("'plan_id' names no plan");
    db.execute(
        "UPDATE subscriptions SET plan_id = COALESCE(?, plan_id), status = COALESCE(?, status), "
        "updated_at = ? WHERE id = ?",
        plan_id, status, store::unix_now(), id);
    json::object detail{{"subscription_id", id}};
    if (plan_id) detail["plan_id"] = *plan_id;
    if (status) detail["status"] = *status;
    audit::record(db, "admin.subscription_updated", caller.actor(), sub->org_id, {}, detail);
    return *find_subscription(db, id);
  });
}

std::pair<std::vector<audit::Entry>, std::int64_t> Administration::audit_log(const audit::Filter& filter,
                                                                             std::int64_t limit, std::int64_t offset) {
  access_.flush_uses();  // the listing shows every use answered before it
  return db_.read([&](store::Connection& db) { return audit::list(db, filter, limit, offset); });
}

LogSettings Administration::log_settings() {
  auto level = db_.read([](store::Connection& db) {
    return db.query_text("SELECT value FROM platform_settings WHERE key = 'log_level'");
  });
  return {level.value_or("info")};
}

LogSettings Administration::update_log_settings(const Caller& caller, const std::optional<std::string>& level) {
  if (level) {
    db_.write([&](store::Connection& db) {
      db.execute(
          "INSERT INTO platform_settings (key, value) VALUES ('log_level', ?) ON CONFLICT (key) DO UPDATE SET "
          "value = excluded.value",
          *level);
      audit::record(db, "admin.log_settings_updated", caller.actor(), {}, {}, {{"level", *level}});
    });
    common::log::set_level(*level);
  }
  return log_settings();
}

void Administration::record(const Caller& caller, std::string_view action, const boost::json::object& detail) {
  db_.write([&](store::Connection& db) { audit::record(db, action, caller.actor(), caller.org_id, {}, detail); });
}

}  // namespace shardlyn
