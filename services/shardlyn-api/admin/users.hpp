#pragma once
// User administration (the User Endpoints other than /me, and /v1/admin/users): accounts a
// platform admin lists, creates, removes and suspends, each change with its audit entry.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/access.hpp"
#include "identity/users.hpp"
#include "store/database.hpp"

namespace shardlyn {

class Users {
 public:
  explicit Users(store::Database& db) : db_(db) {}

  std::pair<std::vector<User>, std::int64_t> list(const std::optional<std::string>& search, std::int64_t limit,
                                                  std::int64_t offset);
  // A verified account with its own organisation.
  User create(const Caller& caller, std::string_view email, std::string_view password, std::string_view name,
              bool platform_admin);
  User find(std::string_view id);  // 404 when absent
  void remove(const Caller& caller, std::string_view id);
  // Suspension also ends the user's sessions.
  User set_suspended(const Caller& caller, std::string_view id, bool suspended);

 private:
  store::Database& db_;
};

}  // namespace shardlyn
