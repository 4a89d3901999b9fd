#pragma once
// The API Token Endpoints' rules: who may hold, see and revoke which token (decision 0010),
// each change in one transaction with its audit entry.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/access.hpp"
#include "store/database.hpp"
#include "tokens/api_tokens.hpp"

namespace shardlyn {

class ApiTokens {
 public:
  static constexpr std::int64_t kMaxTtl = 5LL * 365 * 24 * 3600;  // expires_in at most

  ApiTokens(store::Database& db, const Access& access) : db_(db), access_(access) {}

  // The caller's organisation's tokens (root: the caller's root tokens) they may see.
  std::vector<ApiTokenRecord> list(const Caller& caller, bool root);
  // A new token and its text (shown once); organization_id names another organisation of the caller.
  std::pair<ApiTokenRecord, std::string> create(const Caller& caller, std::string_view name,
                                                std::optional<std::int64_t> expires_in,
                                                std::optional<PermissionSet> permissions, bool root,
                                                const std::optional<std::string>& organization_id = {});
  void revoke(const Caller& caller, std::string_view id);

 private:
  // The caller acting in another organisation they belong to, for a token made there (404 when
  // not a member, 403 without api_tokens.manage).
  Caller in_organization(const Caller& caller, std::string_view org_id);

  store::Database& db_;
  const Access& access_;
};

}  // namespace shardlyn
