#pragma once
// The operations behind the organisation, member, invite, API-token, user-administration,
// settings, webhook-token, support and admin endpoints: each checks the rules that go beyond
// the route's guard, runs in one transaction and writes its audit entry there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "admin/audit.hpp"
#include "common/envelope.hpp"
#include "common/limiter.hpp"
#include "common/mail.hpp"
#include "http/access.hpp"
#include "identity/users.hpp"
#include "orgs/organizations.hpp"
#include "store/database.hpp"
#include "tokens/api_tokens.hpp"

namespace shardlyn {

struct PlatformSettings {
  std::int64_t invite_ttl_s = 7 * 24 * 3600;
  std::int64_t max_token_ttl_s = 5LL * 365 * 24 * 3600;
  std::string helpscout_secret;  // "" = not configured
  std::string support_email;     // where support messages are mailed ("" = stored only)
  std::string backup_dir;        // system backups of shardlyn.db ("" = off)
  std::int64_t backup_interval_s = 0;
  std::int64_t backup_keep = 7;
  std::string app_url;  // where links in mails point (this service's pages unless configured)
  common::LimitSpec org_invite_limit{100, std::chrono::hours(1), 100};   // invites per organisation
  common::LimitSpec user_invite_limit{20, std::chrono::hours(1), 20};  // invites per inviting user
};

struct MemberPermissions {
  std::string role;
  std::vector<Override> overrides;
  PermissionSet effective;
};

struct Plan {
  std::string id;
  std::string name;
  std::int64_t price_cents = 0;
  std::string currency;
  std::int64_t max_nodes = 0;
  std::int64_t max_instances = 0;
  std::int64_t max_memory_mb = 0;
  bool active = true;
  std::int64_t created_at = 0;
};

struct Subscription {
  std::string id;
  std::string org_id;
  std::string org_name;
  std::string plan_id;
  std::string plan_name;
  std::string status;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct WebhookToken {
  std::string id;
  std::string name;
  std::string last_four;
  std::string created_by;
  std::int64_t created_at = 0;
};

struct SshKey {
  std::string name;
  std::string public_key;
  std::string fingerprint;
  bool is_default = false;
  std::int64_t created_at = 0;
};

class Platform {
 public:
  Platform(store::Database& db, const Access& access, common::MailQueue& mail, PlatformSettings settings);
  store::Database& db() { return db_; }
  const PlatformSettings& settings() const { return settings_; }

  // Organisations, members, invites.
  std::vector<std::pair<Organization, std::string>> organizations_of(const Caller& caller);
  // One page of them, and how many there are.
  std::pair<std::vector<std::pair<Organization, std::string>>, std::int64_t> organizations_of(
      const Caller& caller, const common::PageRequest& page);
  Organization create_organization(const Caller& caller, std::string_view name);
  Organization organization(const Caller& caller);
  Organization rename_organization(const Caller& caller, std::string_view name);
  void delete_organization(const Caller& caller);
  std::pair<std::vector<Member>, std::int64_t> members(const Caller& caller, const common::PageRequest& page);
  std::pair<Invite, std::string> invite(const Caller& caller, std::string_view email, std::string_view role);
  void remove_member(const Caller& caller, std::string_view user_id);
  void set_role(const Caller& caller, std::string_view user_id, std::string_view role);
  MemberPermissions member_permissions(const Caller& caller, std::string_view user_id);
  MemberPermissions set_override(const Caller& caller, std::string_view user_id, std::string_view key, bool granted);
  void remove_override(const Caller& caller, std::string_view user_id, std::string_view key);
  std::pair<std::vector<Invite>, std::int64_t> invites(const Caller& caller, const common::PageRequest& page);
  void delete_invite(const Caller& caller, std::string_view invite_id);
  Invite accept_invite(const Caller& caller, std::string_view token);

  // API tokens.
  std::vector<ApiTokenRecord> api_tokens(const Caller& caller, bool root);
  std::pair<ApiTokenRecord, std::string> create_api_token(const Caller& caller, std::string_view name,
                                                          std::optional<std::int64_t> expires_in,
                                                          std::optional<PermissionSet> permissions, bool root,
                                                          const std::optional<std::string>& organization_id = {});
  void revoke_api_token(const Caller& caller, std::string_view id);

  // User administration.
  std::pair<std::vector<User>, std::int64_t> users(const std::optional<std::string>& search, std::int64_t limit,
                                                   std::int64_t offset);
  User create_user(const Caller& caller, std::string_view email, std::string_view password, std::string_view name,
                   bool platform_admin);
  User user(std::string_view id);
  void delete_user(const Caller& caller, std::string_view id);
  User set_suspended(const Caller& caller, std::string_view id, bool suspended);

  // Organisation settings and provisioning SSH keys.
  boost::json::object settings_of(const Caller& caller);
  boost::json::object update_settings(const Caller& caller, const boost::json::object& changes);
  SshKey add_ssh_key(const Caller& caller, std::string_view name, std::string_view public_key);
  void remove_ssh_key(const Caller& caller, std::string_view name);
  SshKey set_default_ssh_key(const Caller& caller, std::string_view name);

  // Webhook tokens.
  std::vector<WebhookToken> webhook_tokens(const Caller& caller);
  std::pair<WebhookToken, std::string> create_webhook_token(const Caller& caller, std::string_view name);
  void delete_webhook_token(const Caller& caller, std::string_view id);

  // Support.
  boost::json::object send_support_message(const Caller& caller, std::string_view subject, std::string_view message);
  std::string helpscout_signature(const Caller& caller) const;

  // Platform administration.
  boost::json::object metrics();
  std::pair<std::vector<Organization>, std::int64_t> all_organizations(std::int64_t limit, std::int64_t offset);
  std::pair<Organization, std::vector<Member>> organization_detail(std::string_view id);
  std::vector<Plan> plans();
  Plan create_plan(const Caller& caller, const Plan& plan);
  Plan update_plan(const Caller& caller, std::string_view id, const boost::json::object& changes);
  void delete_plan(const Caller& caller, std::string_view id);
  std::pair<std::vector<Subscription>, std::int64_t> subscriptions(std::int64_t limit, std::int64_t offset);
  Subscription update_subscription(const Caller& caller, std::string_view id, const std::optional<std::string>& plan_id,
                                   const std::optional<std::string>& status);
  std::pair<std::vector<audit::Entry>, std::int64_t> audit_log(const audit::Filter& filter, std::int64_t limit,
                                                               std::int64_t offset);
  void record(const Caller& caller, std::string_view action, const boost::json::object& detail = {});
  boost::json::object log_settings();
  boost::json::object update_log_settings(const Caller& caller, const std::optional<std::string>& level);
  boost::json::object system_backup_config();
  // Writes a consistent copy of the database into backup_dir and keeps the newest backup_keep.
  void run_system_backup();

 private:
  void check_invite_limits(store::Connection& db, const Caller& caller) const;
  // The caller acting in another organisation they belong to, for a token made there (404 when
  // not a member, 403 without api_tokens.manage).
  Caller in_organization(const Caller& caller, std::string_view org_id);

  store::Database& db_;
  const Access& access_;
  common::MailQueue& mail_;
  PlatformSettings settings_;
};

}  // namespace shardlyn
