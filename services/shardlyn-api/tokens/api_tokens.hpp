#pragma once
// API tokens "shardlyn_api_<id>_<secret>" (after Pangolin's integration API): each belongs to
// one organisation (or, for platform admins, none: a root token) and carries an explicit
// permission set. The secret is shown once; only its HMAC under the server's key is stored,
// with the last four characters for display.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orgs/permissions.hpp"
#include "store/connection.hpp"

namespace shardlyn {

struct ApiTokenRecord {
  std::string id;
  std::optional<std::string> org_id;  // nullopt: root token
  std::string user_id;
  std::string name;
  std::string secret_hash;
  std::string last_four;
  PermissionSet permissions;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> last_used_at;
  std::optional<std::string> last_used_ip;
  std::optional<std::int64_t> revoked_at;
};

namespace api_tokens {

struct Parts {
  std::string id;
  std::string secret;
};

// A token id: a UUID (or, for tokens made before ids were UUIDs, 16 hex characters).
bool is_id(std::string_view id);
// Splits "shardlyn_api_<id>_<secret>"; nullopt unless the id is a token id and the secret 43
// base64url characters.
std::optional<Parts> parse(std::string_view token);

// Stores a new token and returns it with the full token text (shown once).
std::pair<ApiTokenRecord, std::string> create(store::Connection& db, std::string_view key,
                                              const std::optional<std::string>& org_id, std::string_view user_id,
                                              std::string_view name, const PermissionSet& permissions,
                                              std::optional<std::int64_t> expires_at);
std::optional<ApiTokenRecord> find(store::Connection& db, std::string_view id);
// Tokens of an organisation (root tokens of the user when org_id is empty), newest first.
std::vector<ApiTokenRecord> list(store::Connection& db, const std::optional<std::string>& org_id,
                                 std::string_view user_id);
// Revokes a live token of that scope; false when there is none.
bool revoke(store::Connection& db, std::string_view id, const std::optional<std::string>& org_id);
void touch(store::Connection& db, std::string_view id, std::int64_t now, std::string_view ip);

}  // namespace api_tokens
}  // namespace shardlyn
