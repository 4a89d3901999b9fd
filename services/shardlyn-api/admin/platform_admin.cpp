// Organisation settings and SSH keys, webhook tokens, support, and platform administration.
#include <algorithm>
#include <filesystem>

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "orgs/platform.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "store/backups.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

audit::Actor actor(const Caller& c) { return {c.user_id, c.token_id, c.ip}; }

constexpr std::string_view kSshKeyColumns =
    "SELECT name, public_key, fingerprint, is_default, created_at FROM ssh_keys ";
constexpr std::string_view kPlanColumns =
    "SELECT id, name, price_cents, currency, max_nodes, max_instances, max_memory_mb, active, created_at FROM plans ";
constexpr std::string_view kSubscriptionColumns =
    "SELECT s.id, s.org_id, o.name, s.plan_id, p.name, s.status, s.created_at, s.updated_at FROM subscriptions s "
    "JOIN organizations o ON o.id = s.org_id JOIN plans p ON p.id = s.plan_id ";

SshKey ssh_key_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.int64(3) != 0, q.int64(4)};
}
Plan plan_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.int64(2), q.text(3), q.int64(4), q.int64(5), q.int64(6), q.int64(7) != 0, q.int64(8)};
}
Subscription subscription_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.int64(6), q.int64(7)};
}

std::optional<SshKey> find_ssh_key(store::Connection& db, std::string_view org, std::string_view name) {
  auto q = db.prepare(std::string(kSshKeyColumns) + "WHERE org_id = ? AND name = ?");
  q->bind_all(org, name);
  if (!q->step()) return std::nullopt;
  return ssh_key_from_row(*q);
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

// The OpenSSH public key's fingerprint ("SHA256:..." as ssh-keygen -l prints it), or a 400.
std::string ssh_fingerprint(std::string_view public_key) {
  static constexpr std::string_view kTypes[] = {"ssh-ed25519",         "ssh-rsa",
                                                "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                                "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com"};
  auto bad = [] {
    return common::ApiError::validation("'public_key' must be an OpenSSH public key (type base64 [comment])");
  };
  auto space = public_key.find(' ');
  if (space == std::string_view::npos) throw bad();
  std::string_view type = public_key.substr(0, space);
  std::string_view rest = public_key.substr(space + 1);
  std::string_view encoded = rest.substr(0, rest.find(' '));
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) throw bad();
  auto blob = security::base64_decode(encoded);
  if (!blob || blob->size() < 4 + type.size()) throw bad();
  std::size_t len = 0;
  for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<unsigned char>((*blob)[i]);
  if (len != type.size() || blob->compare(4, len, type) != 0) throw bad();
  std::string b64 = security::base64_encode(security::sha256(*blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace

json::object Platform::settings_of(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    json::object out;
    if (auto text = db.query_text("SELECT settings FROM org_settings WHERE org_id = ?", caller.org_id))
      out = json::parse(*text).as_object();
    for (auto key : {"default_provider", "default_region", "default_instance_type", "notification_email"})
      if (!out.contains(key)) out[key] = nullptr;
    json::array keys;
    auto q = db.prepare(std::string(kSshKeyColumns) + "WHERE org_id = ? ORDER BY created_at, name");
    q->bind_all(caller.org_id);
    while (q->step()) {
      auto k = ssh_key_from_row(*q);
      keys.push_back({{"name", k.name},
                      {"public_key", k.public_key},
                      {"fingerprint", k.fingerprint},
                      {"is_default", k.is_default},
                      {"created_at", common::rfc3339_from_unix(k.created_at)}});
    }
    out["organization_id"] = caller.org_id;
    out["ssh_keys"] = std::move(keys);
    return out;
  });
}

json::object Platform::update_settings(const Caller& caller, const json::object& changes) {
  db_.write([&](store::Connection& db) {
    json::object current;
    if (auto text = db.query_text("SELECT settings FROM org_settings WHERE org_id = ?", caller.org_id))
      current = json::parse(*text).as_object();
    for (const auto& [k, v] : changes) current[k] = v;
    db.execute(
        "INSERT INTO org_settings (org_id, settings, updated_at) VALUES (?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET "
        "settings = excluded.settings, updated_at = excluded.updated_at",
        caller.org_id, json::serialize(current), store::unix_now());
    audit::record(db, "settings.updated", actor(caller), caller.org_id, {}, changes);
  });
  return settings_of(caller);
}

SshKey Platform::add_ssh_key(const Caller& caller, std::string_view name, std::string_view public_key) {
  std::string fingerprint = ssh_fingerprint(public_key);
  return db_.write([&](store::Connection& db) {
    if (find_ssh_key(db, caller.org_id, name)) throw common::ApiError::conflict("an SSH key with this name exists");
    bool first = !db.query_int("SELECT 1 FROM ssh_keys WHERE org_id = ?", caller.org_id);
    db.execute(
        "INSERT INTO ssh_keys (org_id, name, public_key, fingerprint, is_default, created_at) VALUES (?, ?, ?, ?, ?, "
        "?)",
        caller.org_id, name, public_key, fingerprint, first, store::unix_now());
    audit::record(db, "settings.ssh_key_added", actor(caller), caller.org_id, {},
                  {{"name", name}, {"fingerprint", fingerprint}});
    return *find_ssh_key(db, caller.org_id, name);
  });
}

void Platform::remove_ssh_key(const Caller& caller, std::string_view name) {
  db_.write([&](store::Connection& db) {
    if (db.execute("DELETE FROM ssh_keys WHERE org_id = ? AND name = ?", caller.org_id, name) == 0)
      throw common::ApiError::not_found("SSH key not found");
    audit::record(db, "settings.ssh_key_removed", actor(caller), caller.org_id, {}, {{"name", name}});
  });
}

SshKey Platform::set_default_ssh_key(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    if (!find_ssh_key(db, caller.org_id, name)) throw common::ApiError::not_found("SSH key not found");
    db.execute("UPDATE ssh_keys SET is_default = (name = ?) WHERE org_id = ?", name, caller.org_id);
    audit::record(db, "settings.ssh_key_default", actor(caller), caller.org_id, {}, {{"name", name}});
    return *find_ssh_key(db, caller.org_id, name);
  });
}

std::vector<WebhookToken> Platform::webhook_tokens(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(
        "SELECT id, name, last_four, created_by, created_at FROM webhook_tokens WHERE org_id = ? "
        "ORDER BY created_at DESC, id");
    q->bind_all(caller.org_id);
    std::vector<WebhookToken> out;
    while (q->step()) out.push_back({q->text(0), q->text(1), q->text(2), q->text(3), q->int64(4)});
    return out;
  });
}

std::pair<WebhookToken, std::string> Platform::create_webhook_token(const Caller& caller, std::string_view name) {
  std::string token = "shardlyn_whk_" + security::random_token(32);
  WebhookToken t{security::uuid_v4(), std::string(name), token.substr(token.size() - 4), caller.user_id,
                 store::unix_now()};
  db_.write([&](store::Connection& db) {
    if (db.query_int("SELECT 1 FROM webhook_tokens WHERE org_id = ? AND name = ?", caller.org_id, name))
      throw common::ApiError::conflict("a webhook token with this name exists");
    db.execute(
        "INSERT INTO webhook_tokens (id, org_id, name, token_hash, last_four, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        t.id, caller.org_id, t.name, security::sha256_hex(token), t.last_four, t.created_by, t.created_at);
    audit::record(db, "webhook_token.created", actor(caller), caller.org_id, {}, {{"id", t.id}, {"name", name}});
  });
  return {std::move(t), std::move(token)};
}

void Platform::delete_webhook_token(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (db.execute("DELETE FROM webhook_tokens WHERE org_id = ? AND id = ?", caller.org_id, id) == 0)
      throw common::ApiError::not_found("webhook token not found");
    audit::record(db, "webhook_token.deleted", actor(caller), caller.org_id, {}, {{"id", id}});
  });
}

json::object Platform::send_support_message(const Caller& caller, std::string_view subject, std::string_view message) {
  std::string id = security::uuid_v4();
  std::int64_t now = store::unix_now();
  auto mail = db_.write([&](store::Connection& db) -> std::optional<std::int64_t> {
    db.execute(
        "INSERT INTO support_messages (id, user_id, email, subject, message, created_at) VALUES (?, ?, ?, ?, ?, ?)", id,
        caller.user_id, caller.email, subject, message, now);
    audit::record(db, "support.message_sent", actor(caller), {}, {}, {{"id", id}});
    if (settings_.support_email.empty()) return std::nullopt;
    std::string body = "From: " + caller.email + " (user " + caller.user_id + ")\nMessage id: " + id + "\n\n" +
                       std::string(message) + "\n";
    return common::MailQueue::enqueue(
        db, {settings_.support_email, "[Support] " + std::string(subject), body, "support-message"});
  });
  if (mail) mail_.send_now({*mail});
  return {
      {"id", id}, {"subject", subject}, {"mailed", mail.has_value()}, {"created_at", common::rfc3339_from_unix(now)}};
}

std::string Platform::helpscout_signature(const Caller& caller) const {
  if (settings_.helpscout_secret.empty()) throw common::ApiError::not_implemented("SHARDLYN_HELPSCOUT_SECRET");
  return security::hmac_sha256_hex(settings_.helpscout_secret, caller.user_id);
}

json::object Platform::metrics() {
  return db_.read([&](store::Connection& db) {
    std::int64_t now = store::unix_now();
    auto count = [&](std::string_view sql) { return db.query_int(sql, now).value_or(0); };
    return json::object{
        {"users", count("SELECT COUNT(*) FROM users WHERE ?1 IS NOT NULL")},
        {"suspended_users", count("SELECT COUNT(*) FROM users WHERE suspended = 1 AND ?1 IS NOT NULL")},
        {"platform_admins", count("SELECT COUNT(*) FROM users WHERE platform_admin = 1 AND ?1 IS NOT NULL")},
        {"organizations", count("SELECT COUNT(*) FROM organizations WHERE ?1 IS NOT NULL")},
        {"live_sessions", count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1")},
        {"active_api_tokens",
         count("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)")},
        {"pending_invites", count("SELECT COUNT(*) FROM invites WHERE expires_at > ?1")},
        {"audit_events_24h", count("SELECT COUNT(*) FROM audit_log WHERE at > ?1 - 86400")},
        {"failed_logins_24h",
         count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND at > ?1 - 86400")},
    };
  });
}

std::pair<std::vector<Organization>, std::int64_t> Platform::all_organizations(std::int64_t limit,
                                                                               std::int64_t offset) {
  return db_.read([&](store::Connection& db) { return organizations::all(db, limit, offset); });
}

std::pair<Organization, std::vector<Member>> Platform::organization_detail(std::string_view id) {
  auto detail = db_.read([&](store::Connection& db) -> std::optional<std::pair<Organization, std::vector<Member>>> {
    auto org = organizations::find(db, id);
    if (!org) return std::nullopt;
    return std::make_pair(*org, organizations::members(db, id));
  });
  if (!detail) throw common::ApiError::not_found("organization not found");
  return *detail;
}

std::vector<Plan> Platform::plans() {
  return db_.read([&](store::Connection& db) {
    auto q = db.prepare(std::string(kPlanColumns) + "ORDER BY price_cents, name");
    std::vector<Plan> out;
    while (q->step()) out.push_back(plan_from_row(*q));
    return out;
  });
}

Plan Platform::create_plan(const Caller& caller, const Plan& plan) {
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
    audit::record(db, "admin.plan_created", actor(caller), {}, {}, {{"plan_id", id}, {"name", plan.name}});
    return *find_plan(db, id);
  });
}

Plan Platform::update_plan(const Caller& caller, std::string_view id, const json::object& changes) {
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
    audit::record(db, "admin.plan_updated", actor(caller), {}, {}, {{"plan_id", id}});
    return *plan;
  });
}

void Platform::delete_plan(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (!find_plan(db, id)) throw common::ApiError::not_found("plan not found");
    if (id == kFreePlan) throw common::ApiError::conflict("the default plan cannot be deleted");
    if (db.query_int("SELECT 1 FROM subscriptions WHERE plan_id = ?", id))
      throw common::ApiError::conflict("organizations are subscribed to this plan");
    db.execute("DELETE FROM plans WHERE id = ?", id);
    audit::record(db, "admin.plan_deleted", actor(caller), {}, {}, {{"plan_id", id}});
  });
}

std::pair<std::vector<Subscription>, std::int64_t> Platform::subscriptions(std::int64_t limit, std::int64_t offset) {
  return db_.read([&](store::Connection& db) {
    std::int64_t total = db.query_int("SELECT COUNT(*) FROM subscriptions").value_or(0);
    auto q = db.prepare(std::string(kSubscriptionColumns) + "ORDER BY s.created_at, s.id LIMIT ? OFFSET ?");
    q->bind_all(limit, offset);
    std::vector<Subscription> out;
    while (q->step()) out.push_back(subscription_from_row(*q));
    return std::make_pair(std::move(out), total);
  });
}

Subscription Platform::update_subscription(const Caller& caller, std::string_view id,
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
    audit::record(db, "admin.subscription_updated", actor(caller), sub->org_id, {}, detail);
    return *find_subscription(db, id);
  });
}

std::pair<std::vector<audit::Entry>, std::int64_t> Platform::audit_log(const audit::Filter& filter, std::int64_t limit,
                                                                       std::int64_t offset) {
  return db_.read([&](store::Connection& db) { return audit::list(db, filter, limit, offset); });
}

json::object Platform::log_settings() {
  auto level = db_.read([](store::Connection& db) {
    return db.query_text("SELECT value FROM platform_settings WHERE key = 'log_level'");
  });
  return {{"level", level.value_or("info")}};
}

json::object Platform::update_log_settings(const Caller& caller, const std::optional<std::string>& level) {
  if (level) {
    db_.write([&](store::Connection& db) {
      db.execute(
          "INSERT INTO platform_settings (key, value) VALUES ('log_level', ?) ON CONFLICT (key) DO UPDATE SET "
          "value = excluded.value",
          *level);
      audit::record(db, "admin.log_settings_updated", actor(caller), {}, {}, {{"level", *level}});
    });
    common::log::set_level(*level);
  }
  return log_settings();
}

json::object Platform::system_backup_config() {
  json::object out{
      {"enabled", !settings_.backup_dir.empty() && settings_.backup_interval_s > 0},
      {"directory", settings_.backup_dir.empty() ? json::value(nullptr) : json::value(settings_.backup_dir)},
      {"interval_seconds", settings_.backup_interval_s},
      {"keep", settings_.backup_keep},
      {"database", db_.path().filename().string()}};
  json::array backups;
  if (!settings_.backup_dir.empty())
    for (const auto& f : store::backup_files(settings_.backup_dir, "shardlyn-", ".db"))
      backups.push_back({{"file", f.name}, {"bytes", f.bytes}});
  out["backups"] = std::move(backups);
  return out;
}

void Platform::run_system_backup() {
  if (settings_.backup_dir.empty()) return;
  std::filesystem::path dir(settings_.backup_dir);
  std::filesystem::create_directories(dir);
  std::string stamp = common::rfc3339_now();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  db_.backup_to(dir / ("shardlyn-" + stamp + ".db"));
  store::rotate_backups(dir, "shardlyn-", ".db", static_cast<std::size_t>(settings_.backup_keep));
}

}  // namespace shardlyn
