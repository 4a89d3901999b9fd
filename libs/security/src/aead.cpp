#include "security/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

#include "openssl_handles.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"

namespace security {
namespace {

using detail::bytes;

void require_key_and_nonce(std::string_view key, std::string_view nonce) {
  if (key.size() != kAeadKeyBytes) {
    throw std::invalid_argument("security: AES-256-GCM key must be 32 bytes");
  }
  if (nonce.size() != kAeadNonceBytes) {
    throw std::invalid_argument("security: AES-256-GCM nonce must be 12 bytes");
  }
}

// EVP update/final take int lengths.
void require_int_length(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX) - kAeadTagBytes) {
    throw std::invalid_argument("security: AES-256-GCM input too large");
  }
}

detail::CipherCtxPtr new_gcm_context(std::string_view key, std::string_view nonce, bool encrypt) {
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) detail::throw_openssl_error("EVP_CIPHER_CTX_new");
  // The default GCM IV length is 12 bytes, which is the only length accepted here.
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce), encrypt ? 1 : 0) != 1) {
    detail::throw_openssl_error("EVP_CipherInit_ex");
  }
  return ctx;
}

// Feeds the additional authenticated data (no output).
bool add_aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  if (aad.empty()) return true;
  int unused = 0;
  return EVP_CipherUpdate(ctx, nullptr, &unused, bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

std::string aes256_gcm_encrypt(std::string_view key32, std::string_view nonce12, std::string_view plaintext,
                               std::string_view aad) {
  require_key_and_nonce(key32, nonce12);
  require_int_length(plaintext);
  require_int_length(aad);
  auto ctx = new_gcm_context(key32, nonce12, true);
  if (!add_aad(ctx.get(), aad)) detail::throw_openssl_error("EVP_EncryptUpdate(aad)");

  std::string out(plaintext.size() + kAeadTagBytes, '\0');
  int written = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), bytes(out), &written, bytes(plaintext), static_cast<int>(plaintext.size())) != 1) {
    detail::throw_openssl_error("EVP_EncryptUpdate");
  }
  int final_written = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), bytes(out) + written, &final_written) != 1) {
    detail::throw_openssl_error("EVP_EncryptFinal_ex");
  }
  const auto ciphertext_size = static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                          bytes(out) + ciphertext_size) != 1) {
    detail::throw_openssl_error("EVP_CTRL_GCM_GET_TAG");
  }
  out.resize(ciphertext_size + kAeadTagBytes);
  return out;
}

std::optional<std::string> aes256_gcm_decrypt(std::string_view key32, std::string_view nonce12,
                                              std::string_view ciphertext_and_tag, std::string_view aad) {
  if (key32.size() != kAeadKeyBytes || nonce12.size() != kAeadNonceBytes || ciphertext_and_tag.size() < kAeadTagBytes) {
    return std::nullopt;
  }
  require_int_length(ciphertext_and_tag);
  require_int_length(aad);
  const std::string_view ciphertext = ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kAeadTagBytes);
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));

  auto ctx = new_gcm_context(key32, nonce12, false);
  if (!add_aad(ctx.get(), aad)) detail::throw_openssl_error("EVP_DecryptUpdate(aad)");

  std::string plaintext(ciphertext.size(), '\0');
  int written = 0;
  if (!ciphertext.empty() && EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &written, bytes(ciphertext),
                                               static_cast<int>(ciphertext.size())) != 1) {
    detail::throw_openssl_error("EVP_DecryptUpdate");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes), tag.data()) != 1) {
    detail::throw_openssl_error("EVP_CTRL_GCM_SET_TAG");
  }
  int final_written = 0;
  // Final fails exactly when the tag does not authenticate: wipe what was decrypted.
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + written, &final_written) != 1) {
    detail::clear_openssl_errors();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return std::nullopt;
  }
  plaintext.resize(static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written));
  return plaintext;
}

std::string aead_seal(std::string_view key32, std::string_view plaintext, std::string_view aad) {
  if (key32.size() != kAeadKeyBytes) {
    throw std::invalid_argument("security: AES-256-GCM key must be 32 bytes");
  }
  std::string sealed = random_bytes(kAeadNonceBytes);
  sealed += aes256_gcm_encrypt(key32, sealed, plaintext, aad);
  return sealed;
}

std::optional<std::string> aead_open(std::string_view key32, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes) return std::nullopt;
  return aes256_gcm_decrypt(key32, sealed.substr(0, kAeadNonceBytes), sealed.substr(kAeadNonceBytes), aad);
}

std::optional<std::string> parse_key_hex32(std::string_view hex) {
  if (hex.size() != 2 * kAeadKeyBytes) return std::nullopt;
  return hex_decode(hex);
}

}  // namespace security
