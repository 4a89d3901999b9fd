// Authenticated encryption for secrets at rest: AES-256-GCM with a random 96-bit nonce.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace security {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadNonceBytes = 12;
inline constexpr std::size_t kAeadTagBytes = 16;

// nonce(12) || ciphertext || tag(16) with a fresh random nonce; aad is authenticated, not
// stored. Throws std::invalid_argument if key32 is not 32 bytes. Random nonces are safe for
// up to ~2^32 messages per key.
std::string aead_seal(std::string_view key32, std::string_view plaintext, std::string_view aad = {});

// The plaintext, or nullopt if the key is not 32 bytes, the input is shorter than nonce + tag,
// or anything (nonce, ciphertext, tag, aad, key) differs from what was sealed.
std::optional<std::string> aead_open(std::string_view key32, std::string_view sealed, std::string_view aad = {});

// ciphertext || tag(16) under an explicit 12-byte nonce; for known-answer tests and protocols
// that derive nonces. The caller guarantees the nonce is never reused with this key. Throws
// std::invalid_argument on a wrong key or nonce size.
std::string aes256_gcm_encrypt(std::string_view key32, std::string_view nonce12, std::string_view plaintext,
                               std::string_view aad = {});

// The plaintext of ciphertext || tag(16) under an explicit nonce, or nullopt on failure.
std::optional<std::string> aes256_gcm_decrypt(std::string_view key32, std::string_view nonce12,
                                              std::string_view ciphertext_and_tag, std::string_view aad = {});

// 64 hex characters (either case) -> 32 key bytes; nullopt otherwise.
std::optional<std::string> parse_key_hex32(std::string_view hex);

}  // namespace security
