#include <algorithm>
#include <filesystem>

#include <boost/json.hpp>

#include "admin/org_settings.hpp"
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

constexpr std::string_view kSshKeyColumns =
    "SELECT name, public_key, fingerprint, is_default, created_at FROM ssh_keys ";

SshKey ssh_key_from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.int64(3) != 0, q.int64(4)};
}
std::optional<SshKey> find_ssh_key(store::Connection& db, std::string_view org, std::string_view name) {
  auto q = db.prepare(std::string(kSshKeyColumns) + "WHERE org_id = ? AND name = ?");
  q->bind_all(org, name);
  if (!q->step()) return std::nullopt;
  return ssh_key_from_row(*q);
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

SettingsView OrganizationSettings::show(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    SettingsView out;
    if (auto text = db.query_text("SELECT settings FROM org_settings WHERE org_id = ?", caller.org_id))
      out.document = json::parse(*text).as_object();
    auto q = db.prepare(std::string(kSshKeyColumns) + "WHERE org_id = ? ORDER BY created_at, name");
    q->bind_all(caller.org_id);
    while (q->step()) out.ssh_keys.push_back(ssh_key_from_row(*q));
    return out;
  });
}

SettingsView OrganizationSettings::update(const Caller& caller, const json::object& changes) {
  db_.write([&](store::Connection& db) {
    json::object current;
    if (auto text = db.query_text("SELECT settings FROM org_settings WHERE org_id = ?", caller.org_id))
      current = json::parse(*text).as_object();
    for (const auto& [k, v] : changes) current[k] = v;
    db.execute(
        "INSERT INTO org_settings (org_id, settings, updated_at) VALUES (?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET "
        "settings = excluded.settings, updated_at = excluded.updated_at",
        caller.org_id, json::serialize(current), store::unix_now());
    audit::record(db, "settings.updated", caller.actor(), caller.org_id, {}, changes);
  });
  return show(caller);
}

SshKey OrganizationSettings::add_ssh_key(const Caller& caller, std::string_view name, std::string_view public_key) {
  std::string fingerprint = ssh_fingerprint(public_key);
  return db_.write([&](store::Connection& db) {
    if (find_ssh_key(db, caller.org_id, name)) throw common::ApiError::conflict("an SSH key with this name exists");
    bool first = !db.query_int("SELECT 1 FROM ssh_keys WHERE org_id = ?", caller.org_id);
    db.execute(
        "INSERT INTO ssh_keys (org_id, name, public_key, fingerprint, is_default, created_at) VALUES (?, ?, ?, ?, ?, "
        "?)",
        caller.org_id, name, public_key, fingerprint, first, store::unix_now());
    audit::record(db, "settings.ssh_key_added", caller.actor(), caller.org_id, {},
                  {{"name", name}, {"fingerprint", fingerprint}});
    return *find_ssh_key(db, caller.org_id, name);
  });
}

void OrganizationSettings::remove_ssh_key(const Caller& caller, std::string_view name) {
  db_.write([&](store::Connection& db) {
    if (db.execute("DELETE FROM ssh_keys WHERE org_id = ? AND name = ?", caller.org_id, name) == 0)
      throw common::ApiError::not_found("SSH key not found");
    audit::record(db, "settings.ssh_key_removed", caller.actor(), caller.org_id, {}, {{"name", name}});
  });
}

SshKey OrganizationSettings::set_default_ssh_key(const Caller& caller, std::string_view name) {
  return db_.write([&](store::Connection& db) {
    if (!find_ssh_key(db, caller.org_id, name)) throw common::ApiError::not_found("SSH key not found");
    db.execute("UPDATE ssh_keys SET is_default = (name = ?) WHERE org_id = ?", name, caller.org_id);
    audit::record(db, "settings.ssh_key_default", caller.actor(), caller.org_id, {}, {{"name", name}});
    return *find_ssh_key(db, caller.org_id, name);
  });
}

std::vector<WebhookToken> WebhookTokens::list(const Caller& caller) {
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

std::pair<WebhookToken, std::string> WebhookTokens::create(const Caller& caller, std::string_view name) {
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
    audit::record(db, "webhook_token.created", caller.actor(), caller.org_id, {}, {{"id", t.id}, {"name", name}});
  });
  return {std::move(t), std::move(token)};
}

void WebhookTokens::remove(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (db.execute("DELETE FROM webhook_tokens WHERE org_id = ? AND id = ?", caller.org_id, id) == 0)
      throw common::ApiError::not_found("webhook token not found");
    audit::record(db, "webhook_token.deleted", caller.actor(), caller.org_id, {}, {{"id", id}});
  });
}

SupportMessage Support::send_message(const Caller& caller, std::string_view subject, std::string_view message) {
  std::string id = security::uuid_v4();
  std::int64_t now = store::unix_now();
  auto mail = db_.write([&](store::Connection& db) -> std::optional<std::int64_t> {
    db.execute(
        "INSERT INTO support_messages (id, user_id, email, subject, message, created_at) VALUES (?, ?, ?, ?, ?, ?)", id,
        caller.user_id, caller.email, subject, message, now);
    audit::record(db, "support.message_sent", caller.actor(), {}, {}, {{"id", id}});
    if (settings_.email.empty()) return std::nullopt;
    std::string body = "From: " + caller.email + " (user " + caller.user_id + ")\nMessage id: " + id + "\n\n" +
                       std::string(message) + "\n";
    return common::MailQueue::enqueue(db,
                                      {settings_.email, "[Support] " + std::string(subject), body, "support-message"});
  });
  if (mail) mail_.send_now({*mail});
  return {id, std::string(subject), mail.has_value(), now};
}

std::string Support::helpscout_signature(const Caller& caller) const {
  if (settings_.helpscout_secret.empty()) throw common::ApiError::not_implemented("SHARDLYN_HELPSCOUT_SECRET");
  return security::hmac_sha256_hex(settings_.helpscout_secret, caller.user_id);
}

BackupConfig SystemBackups::config() const {
  BackupConfig out{.enabled = !settings_.dir.empty() && settings_.interval_s > 0,
                   .directory = settings_.dir,
                   .interval_s = settings_.interval_s,
                   .keep = settings_.keep,
                   .database = db_.path().filename().string()};
  if (!settings_.dir.empty()) out.files = store::backup_files(settings_.dir, "shardlyn-", ".db");
  return out;
}

void SystemBackups::run() {
  if (settings_.dir.empty()) return;
  std::filesystem::path dir(settings_.dir);
  std::filesystem::create_directories(dir);
  std::string stamp = common::rfc3339_now();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  db_.backup_to(dir / ("shardlyn-" + stamp + ".db"));
  store::rotate_backups(dir, "shardlyn-", ".db", static_cast<std::size_t>(settings_.keep));
}

}  // namespace shardlyn
