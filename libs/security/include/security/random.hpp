// Cryptographically secure randomness from OpenSSL's DRBG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace security {

// n bytes from RAND_bytes; throws std::runtime_error if the generator fails.
std::string random_bytes(std::size_t n);

// base64url (no padding) of `bytes` random bytes; 32 bytes give a 43-character token.
std::string random_token(std::size_t bytes = 32);

// Lowercase hex of `bytes` random bytes (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// prefix followed by exactly hex_chars random lowercase hex characters, e.g. "ag-3f9a0c1d22e7".
std::string random_id(std::string_view prefix, std::size_t hex_chars);

// RFC 4122 version 4 UUID, lowercase, 8-4-4-4-12.
std::string uuid_v4();

}  // namespace security
