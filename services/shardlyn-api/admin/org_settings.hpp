#pragma once
// The Settings, Webhook Token, Support and System Endpoints' operations: an organisation's
// settings and provisioning SSH keys, its webhook tokens, support messages and system backups.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "common/mail.hpp"
#include "http/access.hpp"
#include "store/backups.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct SshKey {
  std::string name;
  std::string public_key;
  std::string fingerprint;
  bool is_default = false;
  std::int64_t created_at = 0;
};

// An organisation's settings and its provisioning SSH keys.
struct SettingsView {
  // Kept as the stored JSON document: rows written by earlier versions may hold keys beyond
  // the documented four, and answers list the keys in the order the document first got them.
  boost::json::object document;
  std::vector<SshKey> ssh_keys;  // oldest first
};

class OrganizationSettings {
 public:
  explicit OrganizationSettings(store::Database& db) : db_(db) {}

  SettingsView show(const Caller& caller);
  SettingsView update(const Caller& caller, const boost::json::object& changes);
  SshKey add_ssh_key(const Caller& caller, std::string_view name, std::string_view public_key);
  void remove_ssh_key(const Caller& caller, std::string_view name);
  SshKey set_default_ssh_key(const Caller& caller, std::string_view name);

 private:
  store::Database& db_;
};

struct WebhookToken {
  std::string id;
  std::string name;
  std::string last_four;
  std::string created_by;
  std::int64_t created_at = 0;
};

class WebhookTokens {
 public:
  explicit WebhookTokens(store::Database& db) : db_(db) {}

  std::vector<WebhookToken> list(const Caller& caller);
  std::pair<WebhookToken, std::string> create(const Caller& caller, std::string_view name);  // with its text
  void remove(const Caller& caller, std::string_view id);

 private:
  store::Database& db_;
};

struct SupportSettings {
  std::string email;             // where messages are mailed ("" = stored only)
  std::string helpscout_secret;  // "" = not configured
};

struct SupportMessage {
  std::string id;
  std::string subject;
  bool mailed = false;  // queued to the support address (false: stored only)
  std::int64_t created_at = 0;
};

class Support {
 public:
  Support(store::Database& db, common::MailQueue& mail, SupportSettings settings)
      : db_(db), mail_(mail), settings_(std::move(settings)) {}

  SupportMessage send_message(const Caller& caller, std::string_view subject, std::string_view message);
  std::string helpscout_signature(const Caller& caller) const;  // 501 without a secret

 private:
  store::Database& db_;
  common::MailQueue& mail_;
  SupportSettings settings_;
};

struct BackupSettings {
  std::string dir;  // "" = off
  std::int64_t interval_s = 86400;
  std::int64_t keep = 7;
};

struct BackupConfig {
  bool enabled = false;
  std::string directory;  // "" = off
  std::int64_t interval_s = 0;
  std::int64_t keep = 0;
  std::string database;                  // the database file's name
  std::vector<store::BackupFile> files;  // newest first
};

class SystemBackups {
 public:
  SystemBackups(store::Database& db, BackupSettings settings) : db_(db), settings_(std::move(settings)) {}

  const BackupSettings& settings() const { return settings_; }
  BackupConfig config() const;
  // Writes a consistent copy of the database into the directory and keeps the newest `keep`.
  void run();

 private:
  store::Database& db_;
  BackupSettings settings_;
};

}  // namespace shardlyn
