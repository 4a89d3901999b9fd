#pragma once
// The Organization Endpoints' rules: organisations, their members and invites. Each change
// checks what goes beyond the route's guard (the authority rule, decision 0010), runs in one
// transaction and writes its audit entry there.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/envelope.hpp"
#include "common/limiter.hpp"
#include "common/mail.hpp"
#include "http/access.hpp"
#include "orgs/organizations.hpp"
#include "store/database.hpp"

namespace shardlyn {

class Organizations {
 public:
  explicit Organizations(store::Database& db) : db_(db) {}

  // The caller's organisations with their role there: all, or one page and how many there are.
  std::vector<std::pair<Organization, std::string>> of(const Caller& caller);
  std::pair<std::vector<std::pair<Organization, std::string>>, std::int64_t> of(const Caller& caller,
                                                                                const common::PageRequest& page);
  Organization create(const Caller& caller, std::string_view name);
  // The organisation the caller acts on (the route's scope).
  Organization current(const Caller& caller);
  Organization rename(const Caller& caller, std::string_view name);
  void remove(const Caller& caller);

 private:
  store::Database& db_;
};

// A member's role, overrides and what they add up to.
struct MemberPermissions {
  std::string role;
  std::vector<Override> overrides;
  PermissionSet effective;
};

class Members {
 public:
  explicit Members(store::Database& db) : db_(db) {}

  std::pair<std::vector<Member>, std::int64_t> list(const Caller& caller, const common::PageRequest& page);
  void remove(const Caller& caller, std::string_view user_id);
  void set_role(const Caller& caller, std::string_view user_id, std::string_view role);
  MemberPermissions permissions(const Caller& caller, std::string_view user_id);
  MemberPermissions set_override(const Caller& caller, std::string_view user_id, std::string_view key, bool granted);
  void remove_override(const Caller& caller, std::string_view user_id, std::string_view key);

 private:
  store::Database& db_;
};

struct InviteSettings {
  std::int64_t ttl_s = 7 * 24 * 3600;
  std::string app_url;                                           // where the mailed link points
  common::LimitSpec org_limit{100, std::chrono::hours(1), 100};  // invites per organisation
  common::LimitSpec user_limit{20, std::chrono::hours(1), 20};   // invites per inviting member
};

class Invites {
 public:
  Invites(store::Database& db, common::MailQueue& mail, InviteSettings settings)
      : db_(db), mail_(mail), settings_(std::move(settings)) {}

  // Stores and mails an invite; returns it with its token.
  std::pair<Invite, std::string> send(const Caller& caller, std::string_view email, std::string_view role);
  std::pair<std::vector<Invite>, std::int64_t> list(const Caller& caller, const common::PageRequest& page);
  void remove(const Caller& caller, std::string_view invite_id);
  Invite accept(const Caller& caller, std::string_view token);

 private:
  void check_limits(store::Connection& db, const Caller& caller) const;

  store::Database& db_;
  common::MailQueue& mail_;
  InviteSettings settings_;
};

}  // namespace shardlyn
