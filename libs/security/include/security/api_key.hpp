// API keys of the form "<id>.<secret>": the id is public and indexes the stored record, the
// secret is shown once and stored only as a keyed digest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace security {

struct ApiKey {
  std::string id;
  std::string secret;

  // "<id>.<secret>".
  std::string full() const;
};

// id = id_prefix + 12 random hex characters, secret = base64url of 32 random bytes. Throws
// std::invalid_argument if id_prefix holds a character outside [A-Za-z0-9_-].
ApiKey generate_api_key(std::string_view id_prefix = "");

// Splits at the first '.'; nullopt unless both parts are non-empty, consist only of
// [A-Za-z0-9_-] and the whole text is at most 512 characters.
std::optional<ApiKey> parse_api_key(std::string_view text);

// Lowercase hex HMAC-SHA256 of secret under server_key: what to store instead of the secret.
std::string api_key_digest(std::string_view server_key, std::string_view secret);

// True iff api_key_digest(server_key, secret) equals stored_digest (constant-time compare).
bool api_key_matches(std::string_view server_key, std::string_view secret, std::string_view stored_digest);

}  // namespace security
