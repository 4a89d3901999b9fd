#include "security/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>

#include "openssl_handles.hpp"
#include "security/encoding.hpp"

namespace security {
namespace {

const EVP_MD* message_digest(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::Sha1: return EVP_sha1();
    case DigestAlgorithm::Sha256: return EVP_sha256();
    case DigestAlgorithm::Sha512: return EVP_sha512();
  }
  throw std::invalid_argument("security: unknown DigestAlgorithm");
}

}  // namespace

std::size_t digest_size(DigestAlgorithm alg) { return static_cast<std::size_t>(EVP_MD_get_size(message_digest(alg))); }

std::string digest(DigestAlgorithm alg, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), detail::bytes(out), &size, message_digest(alg), nullptr) != 1) {
    detail::throw_openssl_error("EVP_Digest");
  }
  out.resize(size);
  return out;
}

std::string sha256(std::string_view data) { return digest(DigestAlgorithm::Sha256, data); }

std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }

std::string hmac(DigestAlgorithm alg, std::string_view key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("security: HMAC key too large");
  }
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  // A non-null pointer even for an empty key: HMAC() treats a null key as "reuse previous".
  static const unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (HMAC(message_digest(alg), key_data, static_cast<int>(key.size()), detail::bytes(data), data.size(),
           detail::bytes(out), &size) == nullptr) {
    detail::throw_openssl_error("HMAC");
  }
  out.resize(size);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  return hmac(DigestAlgorithm::Sha256, key, data);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) { return hex_encode(hmac_sha256(key, data)); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    // Still touch every byte of a so the time depends on lengths only, then refuse.
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace security
