#pragma once
// Organisations, their members with roles and permission overrides, and invites. Functions
// run on a connection inside the caller's transaction; rule violations throw common::ApiError.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orgs/permissions.hpp"
#include "store/connection.hpp"

namespace shardlyn {

struct Organization {
  std::string id;
  std::string name;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t member_count = 0;
};

struct Membership {
  std::string role;
  std::vector<Override> overrides;
};

// What a member holds now (their role with overrides).
inline PermissionSet holdings(const Membership& m) { return member_permissions(m.role, m.overrides); }

struct Member {
  std::string user_id;
  std::string email;
  std::string name;
  std::string role;
  std::int64_t joined_at = 0;
};

struct Invite {
  std::string id;
  std::string org_id;
  std::string email;
  std::string role;
  std::string invited_by;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

// The plan every new organisation starts on (created by migration 0003).
inline constexpr std::string_view kFreePlan = "00000000-0000-4000-8000-000000000001";

namespace organizations {

// A new organisation with `owner` as its owner.
Organization create(store::Connection& db, std::string_view name, std::string_view owner);
std::optional<Organization> find(store::Connection& db, std::string_view id);
bool exists(store::Connection& db, std::string_view id);
// The user's organisations with the user's role in each, oldest membership first; `limit`
// rows from `offset` (limit -1: all), and how many there are.
std::vector<std::pair<Organization, std::string>> of_user(store::Connection& db, std::string_view user_id,
                                                          std::int64_t limit = -1, std::int64_t offset = 0);
std::int64_t count_of_user(store::Connection& db, std::string_view user_id);
std::optional<std::string> first_of_user(store::Connection& db, std::string_view user_id);
std::pair<std::vector<Organization>, std::int64_t> all(store::Connection& db, std::int64_t limit, std::int64_t offset);
void rename(store::Connection& db, std::string_view id, std::string_view name);
void remove(store::Connection& db, std::string_view id);

std::optional<Membership> find_membership(store::Connection& db, std::string_view org_id, std::string_view user_id);
std::vector<Member> members(store::Connection& db, std::string_view org_id, std::int64_t limit = -1,
                            std::int64_t offset = 0);
std::int64_t count_members(store::Connection& db, std::string_view org_id);
// Changes a member's role (404 when not a member; 409 when it would leave no owner).
void set_role(store::Connection& db, std::string_view org_id, std::string_view user_id, std::string_view role);
// Removes a member and their API tokens of this organisation (404; 409 for the last owner).
void remove_member(store::Connection& db, std::string_view org_id, std::string_view user_id);
void set_override(store::Connection& db, std::string_view org_id, std::string_view user_id, std::string_view permission,
                  bool granted);
bool remove_override(store::Connection& db, std::string_view org_id, std::string_view user_id,
                     std::string_view permission);

// A new invite and its token (shown once); 409 when the address is a member or already invited.
std::pair<Invite, std::string> invite(store::Connection& db, std::string_view org_id, std::string_view email,
                                      std::string_view role, std::string_view invited_by, std::int64_t ttl_s);
std::vector<Invite> invites(store::Connection& db, std::string_view org_id, std::int64_t limit = -1,
                            std::int64_t offset = 0);
std::int64_t count_invites(store::Connection& db, std::string_view org_id);
bool delete_invite(store::Connection& db, std::string_view org_id, std::string_view invite_id);
// The unexpired invite behind a token.
std::optional<Invite> pending_invite(store::Connection& db, std::string_view token);
// Joins the invite's organisation: 404 unknown or expired token, 403 when the invite names
// another address, 409 when already a member. Returns the invite.
Invite accept(store::Connection& db, std::string_view token, std::string_view user_id, std::string_view email);

}  // namespace organizations
}  // namespace shardlyn
