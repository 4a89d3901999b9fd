#include "security/api_key.hpp"

#include <algorithm>
#include <stdexcept>

#include "security/digest.hpp"
#include "security/random.hpp"

namespace security {
namespace {

constexpr std::size_t kIdHexChars = 12;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMaxApiKeyLength = 512;

bool is_key_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool only_key_characters(std::string_view text) { return std::all_of(text.begin(), text.end(), is_key_character); }

}  // namespace

std::string ApiKey::full() const { return id + '.' + secret; }

ApiKey generate_api_key(std::string_view id_prefix) {
  if (!only_key_characters(id_prefix)) {
    throw std::invalid_argument("security: API key prefix must match [A-Za-z0-9_-]*");
  }
  return ApiKey{random_id(id_prefix, kIdHexChars), random_token(kSecretBytes)};
}

std::optional<ApiKey> parse_api_key(std::string_view text) {
  if (text.size() > kMaxApiKeyLength) return std::nullopt;
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view id = text.substr(0, dot);
  const std::string_view secret = text.substr(dot + 1);
  if (id.empty() || secret.empty() || !only_key_characters(id) || !only_key_characters(secret)) {
    return std::nullopt;
  }
  return ApiKey{std::string(id), std::string(secret)};
}

std::string api_key_digest(std::string_view server_key, std::string_view secret) {
  return hmac_sha256_hex(server_key, secret);
}

bool api_key_matches(std::string_view server_key, std::string_view secret, std::string_view stored_digest) {
  return constant_time_equal(api_key_digest(server_key, secret), stored_digest);
}

}  // namespace security
