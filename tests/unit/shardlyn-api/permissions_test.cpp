#include "orgs/permissions.hpp"

#include <catch2/catch.hpp>

#include "common/error.hpp"

#include <set>
#include <string>

using shardlyn::member_permissions;
using shardlyn::missing_permissions;
using shardlyn::PermissionSet;
using shardlyn::role_permissions;
using shardlyn::token_permissions;

TEST_CASE("the catalogue has unique keys of the form group.action, platform keys apart") {
  std::set<std::string> seen;
  for (const auto& p : shardlyn::permission_catalogue()) {
    std::string key(p.key);
    CHECK(seen.insert(key).second);
    CHECK(key.find('.') != std::string::npos);
    CHECK(p.platform == key.starts_with("admin."));
    CHECK_FALSE(p.group.empty());
    CHECK_FALSE(p.description.empty());
  }
  for (auto key : {"nodes.read", "nodes.create", "instances.console", "billing.manage", "members.manage"})
    CHECK(shardlyn::is_permission(key));
  CHECK_FALSE(shardlyn::is_permission("nodes.fly"));
  CHECK(shardlyn::is_platform_permission("admin.users"));
  CHECK_FALSE(shardlyn::is_platform_permission("nodes.read"));
}

TEST_CASE("roles are nested sets without platform keys") {
  auto owner = role_permissions("owner"), admin = role_permissions("admin"), user = role_permissions("user");
  CHECK(missing_permissions(user, admin).empty());
  CHECK(missing_permissions(admin, owner).empty());
  CHECK(owner.count("organization.delete"));
  CHECK_FALSE(admin.count("organization.delete"));
  CHECK_FALSE(admin.count("billing.manage"));
  CHECK(user.count("instances.console"));
  CHECK_FALSE(user.count("members.manage"));
  for (const auto& key : owner) CHECK_FALSE(shardlyn::is_platform_permission(key));
  for (const auto& key : user) CHECK(shardlyn::is_permission(key));
  CHECK(role_permissions("boss").empty());
  CHECK(shardlyn::all_permissions().count("admin.users"));
}

TEST_CASE("overrides grant and deny on top of the role, never for the owner") {
  auto p = member_permissions("user", {{"nodes.create", true}, {"instances.console", false}});
  CHECK(p.count("nodes.create"));
  CHECK_FALSE(p.count("instances.console"));
  CHECK(p.count("nodes.read"));
  // Unknown and platform keys are ignored.
  auto q = member_permissions("user", {{"admin.users", true}, {"nodes.fly", true}});
  CHECK(q == role_permissions("user"));
  CHECK(member_permissions("owner", {{"members.manage", false}}) == role_permissions("owner"));
}

TEST_CASE("a token holds the intersection of its set and its creator's") {
  PermissionSet token{"nodes.read", "nodes.create", "billing.manage"};
  PermissionSet creator = role_permissions("admin");
  auto effective = token_permissions(token, creator);
  CHECK(effective == PermissionSet{"nodes.read", "nodes.create"});
  CHECK(token_permissions(token, {}).empty());
  CHECK(missing_permissions(token, creator) == std::vector<std::string>{"billing.manage"});
}

TEST_CASE("authority: nobody hands out or touches what they do not hold") {
  auto admin = role_permissions("admin");
  // Within the caller's set: allowed.
  CHECK_NOTHROW(shardlyn::require_authority(admin, role_permissions("user"), "invite"));
  CHECK_NOTHROW(shardlyn::require_authority(admin, {}, "invite"));
  // A member with members.manage on top of "user" cannot make anyone (themselves included) admin.
  auto manager = member_permissions("user", {{"members.manage", true}});
  CHECK_THROWS_AS(shardlyn::require_authority(manager, role_permissions("admin"), "grant the admin role"),
                  common::ApiError);
  // Only an owner covers an owner.
  CHECK_THROWS_AS(shardlyn::require_authority(admin, role_permissions("owner"), "act on an owner"), common::ApiError);
  CHECK_NOTHROW(shardlyn::require_authority(role_permissions("owner"), role_permissions("owner"), "act on an owner"));
  try {
    shardlyn::require_authority(admin, {"billing.manage"}, "grant billing.manage");
    FAIL("expected a refusal");
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 403);
    CHECK(std::string(e.what()).find("billing.manage") != std::string::npos);
  }
}
