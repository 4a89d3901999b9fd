#pragma once
// API keys: bootstrap admin keys from TC_API_KEYS and scoped keys created by admins. Only
// keyed digests (HMAC-SHA256 under a per-database pepper) are kept, in memory and on disk.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit.hpp"
#include "common/memo.hpp"
#include "store/database.hpp"

namespace common {
class Service;
}

namespace tc {

// Scopes are ordered: admin implies write implies read.
enum class Scope { Read = 1, Write = 2, Admin = 3 };
std::string_view scope_name(Scope scope);
std::optional<Scope> parse_scope(std::string_view name);

// Who is calling, as the authenticator found it (stored in Request::principal).
struct Caller {
  std::string key_id;  // "tck_<hex>", "boot_<hex>" for a bootstrap key, "" when anonymous
  std::string name;
  Scope scope = Scope::Read;
  bool anonymous = false;
};

struct ApiKeyRecord {
  std::string id;
  std::string name;
  std::vector<Scope> scopes;
  std::string created_at;
  std::string created_by;
  std::optional<std::string> expires_at;
  std::optional<std::string> revoked_at;
};

// A key just created: the record and the full key, which is never shown again.
struct NewApiKey {
  ApiKeyRecord record;
  std::string key;
};

enum class KeyRefusal { Invalid, Expired, Revoked };

class ApiKeys {
 public:
  // Reads (or creates once) the database's digest pepper and digests the bootstrap keys.
  ApiKeys(store::Database& db, const std::vector<std::string>& bootstrap_keys);

  // Creates a key; the audit entry shows it only redacted ("<id>.***").
  NewApiKey create(std::string name, std::vector<Scope> scopes, std::optional<std::int64_t> expires_at,
                   const Actor& by);
  // Keys newest first, with the total count.
  std::pair<std::vector<ApiKeyRecord>, std::int64_t> list(std::int64_t limit, std::int64_t offset) const;
  // Marks a key revoked; nullopt when there is no such unrevoked key.
  std::optional<ApiKeyRecord> revoke(std::string_view id, const Actor& by);

  // The caller holding `token`, or why it is refused. Secrets are compared in constant time.
  struct Verdict {
    std::optional<Caller> caller;
    KeyRefusal refusal = KeyRefusal::Invalid;
  };
  Verdict authenticate(std::string_view token) const;

 private:
  // A stored key as authentication reads it (its digest, not its secret).
  struct StoredKey {
    std::string name, scopes, digest;
    std::optional<std::string> expires_at, revoked_at;
  };
  // Stored keys are remembered by id so that a keyed request needs no read transaction; the
  // memo's generation moves with this process's revocations and with any commit by another
  // process (the import command, the sqlite3 shell), so a revocation counts from the next request.
  std::uint64_t generation() const noexcept;

  store::Database& db_;
  std::string pepper_;
  std::vector<std::pair<std::string, std::string>> bootstrap_;  // (id, digest)
  mutable common::Memo<StoredKey> stored_;
  std::atomic<std::uint64_t> revocations_{0};
};

// Registers the auth schemes "read", "write", "admin" (that scope or a higher one) and
// "public-read" (like "read", but anonymous callers pass when public_reads is set; they are
// then limited per client IP) and "public-write" (like "write", but anonymous callers pass
// when anonymous_uploads is set, limited per client IP).
void install_auth_schemes(common::Service& service, const ApiKeys& keys, bool public_reads,
                          bool anonymous_uploads = false);

}  // namespace tc
