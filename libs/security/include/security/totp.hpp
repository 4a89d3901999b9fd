// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), plus otpauth:// provisioning URIs.
// Keys are raw bytes (base32_decode a user-facing secret first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "security/digest.hpp"

namespace security {

// The HOTP value for counter, zero-padded to `digits` (6..10); throws std::invalid_argument
// for digits out of range.
std::string hotp(std::string_view key, std::uint64_t counter, int digits = 6,
                 DigestAlgorithm alg = DigestAlgorithm::Sha1);

// The time-step counter floor(unix_time / step_seconds) (T0 = 0); throws
// std::invalid_argument for negative time or a non-positive step.
std::int64_t totp_counter(std::int64_t unix_time, int step_seconds = 30);

// The TOTP value at unix_time; throws std::invalid_argument on bad time, step or digits.
std::string totp(std::string_view key, std::int64_t unix_time, int step_seconds = 30, int digits = 6,
                 DigestAlgorithm alg = DigestAlgorithm::Sha1);

// The counter of the time step within +-window_steps of unix_time whose code equals `code`, or
// nullopt. Codes that are not exactly `digits` ASCII digits are rejected; every step in the
// window is compared in constant time, so timing reveals neither match nor position. Callers
// store the returned counter and refuse codes whose counter is not greater (no replay).
std::optional<std::int64_t> totp_match(std::string_view key, std::string_view code, std::int64_t unix_time,
                                       int window_steps = 1, int step_seconds = 30, int digits = 6,
                                       DigestAlgorithm alg = DigestAlgorithm::Sha1);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=...&digits=...&period=...
// with label and issuer percent-encoded (RFC 3986 unreserved characters kept); '=' padding
// and spaces are dropped from the secret. An empty issuer leaves out the prefix and parameter.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view base32_secret,
                        int digits = 6, int period = 30, DigestAlgorithm alg = DigestAlgorithm::Sha1);

}  // namespace security
