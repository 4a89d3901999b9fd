// Hashes, HMACs and constant-time comparison.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace security {

enum class DigestAlgorithm { Sha1, Sha256, Sha512 };

// Output size in bytes of alg (20, 32 or 64).
std::size_t digest_size(DigestAlgorithm alg);

// Raw hash of data with alg.
std::string digest(DigestAlgorithm alg, std::string_view data);

// Raw 32-byte SHA-256 of data.
std::string sha256(std::string_view data);

// Lowercase hex SHA-256 of data (64 characters).
std::string sha256_hex(std::string_view data);

// Raw 32-byte HMAC-SHA256 of data under key (any key length, including empty).
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lowercase hex HMAC-SHA256 of data under key.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Raw HMAC of data under key with alg.
std::string hmac(DigestAlgorithm alg, std::string_view key, std::string_view data);

// True iff a and b are equal; time depends only on the lengths, never on the content.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace security
