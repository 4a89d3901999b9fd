#include "security/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
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

const char* digest_name(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::Sha1: return "SHA1";
    case DigestAlgorithm::Sha256: return "SHA256";
    case DigestAlgorithm::Sha512: return "SHA512";
  }
  throw std::invalid_argument("security: unknown DigestAlgorithm");
}

// HMAC contexts with their key already set, per thread: the algorithm fetch and the key's pads
// are computed once per key instead of at every call (most callers use one server key).
class PreparedHmacs {
 public:
  PreparedHmacs() = default;
  PreparedHmacs(const PreparedHmacs&) = delete;
  PreparedHmacs& operator=(const PreparedHmacs&) = delete;
  ~PreparedHmacs() {
    for (auto& slot : slots_) clear(slot);
  }

  EVP_MAC_CTX* get(DigestAlgorithm alg, std::string_view key) {
    for (auto& slot : slots_)
      if (slot.ctx && slot.alg == alg && slot.key.size() == key.size() &&
          CRYPTO_memcmp(slot.key.data(), key.data(), key.size()) == 0)
        return slot.ctx.get();
    Slot& slot = slots_[next_];
    next_ = (next_ + 1) % slots_.size();
    clear(slot);
    slot.ctx.reset(EVP_MAC_CTX_new(mac()));
    if (!slot.ctx) detail::throw_openssl_error("EVP_MAC_CTX_new");
    std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_name(alg)), 0),
        OSSL_PARAM_construct_end()};
    // A non-null pointer even for an empty key: a null key means "keep the previous one".
    static const unsigned char kEmpty = 0;
    const unsigned char* key_data = key.empty() ? &kEmpty : detail::bytes(key);
    if (EVP_MAC_init(slot.ctx.get(), key_data, key.size(), params.data()) != 1) {
      slot.ctx.reset();
      detail::throw_openssl_error("EVP_MAC_init");
    }
    slot.alg = alg;
    slot.key.assign(key);
    return slot.ctx.get();
  }

 private:
  using MacCtxPtr = detail::OpenSslPtr<EVP_MAC_CTX, EVP_MAC_CTX_free>;
  struct Slot {
    DigestAlgorithm alg = DigestAlgorithm::Sha256;
    std::string key;
    MacCtxPtr ctx;
  };

  static EVP_MAC* mac() {
    static EVP_MAC* const fetched = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // lives as long as the process
    if (!fetched) detail::throw_openssl_error("EVP_MAC_fetch");
    return fetched;
  }
  static void clear(Slot& slot) {
    if (!slot.key.empty()) OPENSSL_cleanse(slot.key.data(), slot.key.size());
    slot.key.clear();
    slot.ctx.reset();
  }

  std::array<Slot, 4> slots_{};
  std::size_t next_ = 0;
};

EVP_MAC_CTX* prepared_hmac(DigestAlgorithm alg, std::string_view key) {
  thread_local PreparedHmacs prepared;
  return prepared.get(alg, key);
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
  EVP_MAC_CTX* ctx = prepared_hmac(alg, key);
  // Re-initialising without a key restarts from the prepared inner and outer pads.
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, detail::bytes(data), data.size()) != 1) {
    detail::throw_openssl_error("EVP_MAC_update");
  }
  std::string out(EVP_MAX_MD_SIZE, '\0');
  std::size_t size = 0;
  if (EVP_MAC_final(ctx, detail::bytes(out), &size, out.size()) != 1) detail::throw_openssl_error("EVP_MAC_final");
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
