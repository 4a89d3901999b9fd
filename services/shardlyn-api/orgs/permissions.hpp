#pragma once
// The one catalogue of permission keys (GET /v1/permissions), the organisation roles as named
// sets of them, and how a member's or an API token's effective set is resolved.
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace shardlyn {

using PermissionSet = std::set<std::string, std::less<>>;

struct PermissionInfo {
  std::string_view key;          // "nodes.read"
  std::string_view group;        // "Nodes": how the catalogue is grouped for display
  std::string_view description;  // one line
  bool platform = false;         // platform administration: root tokens only, never a role
};

// Every key, grouped in the order of the API reference.
const std::vector<PermissionInfo>& permission_catalogue();
bool is_permission(std::string_view key);
bool is_platform_permission(std::string_view key);

// Organisation roles, strongest first.
inline constexpr std::string_view kRoles[] = {"owner", "admin", "user"};
bool is_role(std::string_view role);
// The keys a role grants (owner: every organisation key).
PermissionSet role_permissions(std::string_view role);
// Every key a platform admin may put on a root token (organisation and platform keys).
PermissionSet all_permissions();

struct Override {
  std::string permission;
  bool granted = true;  // false: denied although the role grants it
};

// A member's effective permissions: the role's set with grants added and denials removed.
// The owner's set is the whole organisation catalogue whatever the overrides say, so an
// organisation always keeps someone who can manage it.
PermissionSet member_permissions(std::string_view role, const std::vector<Override>& overrides);

// What an API token may do: its own set, limited to what its creator holds right now.
PermissionSet token_permissions(const PermissionSet& token_set, const PermissionSet& creator_set);

// Keys in `wanted` that `holder` does not have (empty: wanted is a subset).
std::vector<std::string> missing_permissions(const PermissionSet& wanted, const PermissionSet& holder);

// The one rule behind every change to who may do what in an organisation (decision 0010):
// nobody grants, invites to, lifts a restriction from, or acts on the member or the tokens of
// a role or permission they do not hold themselves. `wanted` is what the change hands out or
// touches; when `caller` lacks any of it, a 403 saying which key and what was refused.
bool covers(const PermissionSet& holder, const PermissionSet& wanted);
void require_authority(const PermissionSet& caller, const PermissionSet& wanted, std::string_view action);

}  // namespace shardlyn
