#pragma once
// The Credentials Endpoints' operations: an organisation's cloud provider credentials, the
// secret fields sealed with AES-256-GCM and never returned (a masked hint instead), one
// default per provider, and `verify`, which asks the provider.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "credentials/providers.hpp"
#include "http/access.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct Credential {
  std::string id;
  std::string provider;
  std::string name;
  std::string hint;
  bool is_default = false;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> verified_at;
  std::optional<bool> verify_valid;
  std::optional<std::string> verify_message;
};

struct CredentialChanges {
  std::optional<std::string> name;
  std::optional<boost::json::object> secrets;  // replaces every secret field
};

class Credentials {
 public:
  Credentials(store::Database& db, std::string_view key32, ProviderSettings settings);

  std::vector<Credential> list(const Caller& caller, const std::optional<std::string>& provider);
  Credential get(const Caller& caller, std::string_view id);
  // 409 for a name the organisation uses; the first of its provider becomes the default.
  Credential create(const Caller& caller, std::string_view provider, std::string_view name,
                    const boost::json::object& secrets, bool make_default);
  Credential update(const Caller& caller, std::string_view id, const CredentialChanges& changes);
  void remove(const Caller& caller, std::string_view id);
  Credential make_default(const Caller& caller, std::string_view id);
  // Calls the provider (blocking) and records the outcome on the credential.
  std::pair<Credential, VerifyOutcome> verify(const Caller& caller, std::string_view id);

 private:
  std::string seal(std::string_view id, const boost::json::object& secrets) const;

  store::Database& db_;
  std::string seal_key_;
  ProviderSettings settings_;
};

}  // namespace shardlyn
