// Password hashing with Argon2id (RFC 9106) at OWASP's recommended cost, as PHC strings.
// Hashing costs ~19 MiB and tens of milliseconds: call from a worker thread, not an I/O thread.
// At most one hash per core runs at a time (callers wait), so memory stays bounded however
// many threads ask at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace security {

// The current parameters: m = 19456 KiB, t = 2, p = 1, 16-byte salt, 32-byte tag.
struct PasswordParameters {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
  std::uint32_t salt_bytes = 16;
  std::uint32_t tag_bytes = 32;
};

// The parameters password_hash() uses.
const PasswordParameters& password_current_parameters();

// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>" with a fresh random salt; throws
// std::runtime_error only if Argon2 itself fails (e.g. out of memory).
std::string password_hash(std::string_view password);

// True iff phc is a well-formed Argon2id PHC string and password matches it (constant-time
// tag comparison). False, never an exception, on a malformed or absurd-cost hash.
bool password_verify(std::string_view password, std::string_view phc);

// True if phc is malformed, not Argon2id v19, or weaker than the current parameters
// (less memory, fewer iterations, shorter salt or tag).
bool password_needs_rehash(std::string_view phc);

// The most hashes that ever ran at once in this process (never above the number of cores).
int password_peak_concurrency();

// A valid hash of a random password, computed once per process: verify against it for
// unknown users so that a login takes the same time whether or not the account exists.
const std::string& password_dummy_hash();

}  // namespace security
