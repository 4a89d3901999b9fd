#include "orgs/permissions.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace shardlyn {

namespace {

// Keys a plain member ("user" role) holds: looking, and operating existing game servers.
constexpr std::string_view kUserRole[] = {
    "organization.read", "members.read",      "nodes.read",       "workloads.read",  "instances.read",
    "instances.power",   "instances.console", "instances.files",  "instances.logs",  "instances.backups",
    "provision.read",    "planner.read",      "credentials.read", "dns.read",        "ssh.certificates",
    "alerts.read",       "integrations.read", "billing.read",     "backups.read",    "deploy.read",
    "migrations.read",   "settings.read",     "webhooks.read",    "pterodactyl.read"};

// Keys only the owner holds among the organisation's roles.
constexpr std::string_view kOwnerOnly[] = {"organization.delete", "billing.manage"};

}  // namespace

const std::vector<PermissionInfo>& permission_catalogue() {
  static const std::vector<PermissionInfo> catalogue = {
      {"organization.read", "Organization", "View the organization"},
      {"organization.update", "Organization", "Rename and configure the organization"},
      {"organization.delete", "Organization", "Delete the organization"},
      {"members.read", "Organization", "List members, their roles and permissions, and invites"},
      {"members.invite", "Organization", "Invite members and withdraw invites"},
      {"members.manage", "Organization", "Remove members, change roles and permission overrides"},
      {"api_tokens.manage", "Organization", "Create, list and revoke the organization's API tokens"},
      {"nodes.read", "Nodes", "List nodes, inventory and metrics"},
      {"nodes.create", "Nodes", "Create node registration tokens"},
      {"nodes.update", "Nodes", "Update, cordon, drain and migrate nodes"},
      {"nodes.delete", "Nodes", "Delete nodes"},
      {"nodes.power", "Nodes", "Start, stop, reboot and resize provisioned servers"},
      {"nodes.firewall", "Nodes", "Manage firewall rules of provisioned servers"},
      {"nodes.terminal", "Nodes", "Open terminal and SSH sessions; manage containers and processes on nodes"},
      {"workloads.read", "Workloads", "List and export workloads"},
      {"workloads.create", "Workloads", "Create workloads, from templates and Pterodactyl eggs"},
      {"workloads.update", "Workloads", "Update workloads"},
      {"workloads.delete", "Workloads", "Delete workloads"},
      {"instances.read", "Instances", "List instances, their stats and metrics"},
      {"instances.create", "Instances", "Create instances"},
      {"instances.update", "Instances", "Update instances"},
      {"instances.delete", "Instances", "Delete instances"},
      {"instances.power", "Instances", "Start, stop, restart and kill instances"},
      {"instances.console", "Instances", "Use the interactive console"},
      {"instances.files", "Instances", "Read, write, upload and delete instance files"},
      {"instances.logs", "Instances", "Read live logs, log history and install logs"},
      {"instances.backups", "Instances", "Create, download, restore and delete backups"},
      {"instances.git", "Instances", "Configure and trigger git deploys"},
      {"provision.read", "Provisioning", "List provision requests and providers"},
      {"provision.manage", "Provisioning", "Create, plan, apply and destroy provisioned servers"},
      {"planner.read", "Planner", "Capacity recommendations and pricing"},
      {"credentials.read", "Credentials", "List cloud credentials (secrets are never shown)"},
      {"credentials.manage", "Credentials", "Create, update, verify and delete cloud credentials"},
      {"dns.read", "DNS", "List DNS zones and records"},
      {"dns.manage", "DNS", "Create, update and delete DNS records; auto-DNS"},
      {"ssh.certificates", "SSH", "Request and list SSH certificates"},
      {"ssh.revoke", "SSH", "Revoke SSH certificates"},
      {"alerts.read", "Alerts", "List alerts and alert rules"},
      {"alerts.manage", "Alerts", "Acknowledge alerts; create, update and delete rules"},
      {"integrations.read", "Integrations", "List integrations"},
      {"integrations.manage", "Integrations", "Create, update, test and delete integrations"},
      {"billing.read", "Billing", "View plans, subscription, usage, limits and cloud costs"},
      {"billing.manage", "Billing", "Subscribe, cancel and open the billing portal"},
      {"backups.read", "Backup storage", "View backup storage configurations"},
      {"backups.manage", "Backup storage", "Create, update, activate and delete backup storage"},
      {"deploy.read", "Deploy", "List deployments and templates"},
      {"deploy.create", "Deploy", "Create one-click deployments"},
      {"migrations.read", "Migrations", "List migrations"},
      {"migrations.manage", "Migrations", "Cancel migrations"},
      {"settings.read", "Settings", "Read the organization's settings"},
      {"settings.manage", "Settings", "Update settings and provisioning SSH keys"},
      {"webhooks.read", "Webhook tokens", "List webhook tokens"},
      {"webhooks.manage", "Webhook tokens", "Create and delete webhook tokens"},
      {"pterodactyl.read", "Pterodactyl import", "Validate a panel and list its servers"},
      {"pterodactyl.import", "Pterodactyl import", "Import servers from a Pterodactyl panel"},
      {"admin.metrics", "Platform administration", "Platform metrics dashboard", true},
      {"admin.organizations", "Platform administration", "List and inspect every organization", true},
      {"admin.plans", "Platform administration", "Manage billing plans", true},
      {"admin.subscriptions", "Platform administration", "Manage subscriptions", true},
      {"admin.audit", "Platform administration", "Read and export the audit log", true},
      {"admin.users", "Platform administration", "Manage user accounts, suspend and unsuspend", true},
      {"admin.settings", "Platform administration", "Log settings and the system backup", true},
      {"admin.tunnel", "Platform administration", "Tunnel statistics and connected agents", true},
      {"admin.ssh_ca", "Platform administration", "Manage SSH CA keys", true},
      {"admin.logs", "Platform administration", "Clear instance logs", true},
  };
  return catalogue;
}

namespace {
const PermissionInfo* find(std::string_view key) {
  for (const auto& p : permission_catalogue())
    if (p.key == key) return &p;
  return nullptr;
}
}  // namespace

bool is_permission(std::string_view key) { return find(key) != nullptr; }

bool is_platform_permission(std::string_view key) {
  const auto* p = find(key);
  return p && p->platform;
}

bool is_role(std::string_view role) {
  return std::find(std::begin(kRoles), std::end(kRoles), role) != std::end(kRoles);
}

PermissionSet role_permissions(std::string_view role) {
  PermissionSet out;
  if (role == "user") {
    out.insert(std::begin(kUserRole), std::end(kUserRole));
    return out;
  }
  if (role != "owner" && role != "admin") return out;
  for (const auto& p : permission_catalogue())
    if (!p.platform) out.emplace(p.key);
  if (role == "admin")
    for (auto key : kOwnerOnly) out.erase(std::string(key));
  return out;
}

PermissionSet all_permissions() {
  PermissionSet out;
  for (const auto& p : permission_catalogue()) out.emplace(p.key);
  return out;
}

PermissionSet member_permissions(std::string_view role, const std::vector<Override>& overrides) {
  PermissionSet out = role_permissions(role);
  if (role == "owner") return out;
  for (const auto& o : overrides) {
    if (is_platform_permission(o.permission) || !is_permission(o.permission)) continue;
    if (o.granted)
      out.insert(o.permission);
    else
      out.erase(o.permission);
  }
  return out;
}

PermissionSet token_permissions(const PermissionSet& token_set, const PermissionSet& creator_set) {
  PermissionSet out;
  std::set_intersection(token_set.begin(), token_set.end(), creator_set.begin(), creator_set.end(),
                        std::inserter(out, out.end()));
  return out;
}

std::vector<std::string> missing_permissions(const PermissionSet& wanted, const PermissionSet& holder) {
  std::vector<std::string> out;
  std::set_difference(wanted.begin(), wanted.end(), holder.begin(), holder.end(), std::back_inserter(out));
  return out;
}

bool covers(const PermissionSet& holder, const PermissionSet& wanted) {
  return std::includes(holder.begin(), holder.end(), wanted.begin(), wanted.end());
}

void require_authority(const PermissionSet& caller, const PermissionSet& wanted, std::string_view action) {
  auto missing = missing_permissions(wanted, caller);
  if (missing.empty()) return;
  throw common::ApiError::forbidden("you cannot " + std::string(action) + ": it takes " + missing.front() +
                                    ", which you do not hold");
}

}  // namespace shardlyn
