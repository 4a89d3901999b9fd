#include "security/totp.hpp"

#include <algorithm>
#include <stdexcept>

#include "security/encoding.hpp"

namespace security {
namespace {

constexpr int kMinDigits = 6;
constexpr int kMaxDigits = 10;

void require_digits(int digits) {
  if (digits < kMinDigits || digits > kMaxDigits) {
    throw std::invalid_argument("security: OTP digits must be between 6 and 10");
  }
}

std::uint64_t power_of_ten(int exponent) {
  std::uint64_t value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

// RFC 4226 section 5.3: dynamic truncation of the HMAC to a 31-bit integer.
std::uint32_t dynamic_truncation(std::string_view mac) {
  const auto offset = static_cast<std::size_t>(static_cast<unsigned char>(mac.back()) & 0x0F);
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + i]));
  };
  return ((byte(0) & 0x7F) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

std::string big_endian_counter(std::uint64_t counter) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(counter & 0xFF);
    counter >>= 8;
  }
  return out;
}

bool all_ascii_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view algorithm_label(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::Sha1: return "SHA1";
    case DigestAlgorithm::Sha256: return "SHA256";
    case DigestAlgorithm::Sha512: return "SHA512";
  }
  throw std::invalid_argument("security: unknown DigestAlgorithm");
}

// RFC 3986 percent-encoding: unreserved characters stay, every other byte becomes %XX.
std::string percent_encode(std::string_view text) {
  constexpr std::string_view kUpperHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kUpperHex[byte >> 4];
      out += kUpperHex[byte & 0x0F];
    }
  }
  return out;
}

}  // namespace

std::string hotp(std::string_view key, std::uint64_t counter, int digits, DigestAlgorithm alg) {
  require_digits(digits);
  const std::string mac = hmac(alg, key, big_endian_counter(counter));
  const std::uint64_t code = dynamic_truncation(mac) % power_of_ten(digits);
  std::string text = std::to_string(code);
  text.insert(0, static_cast<std::size_t>(digits) - text.size(), '0');
  return text;
}

std::int64_t totp_counter(std::int64_t unix_time, int step_seconds) {
  if (unix_time < 0) throw std::invalid_argument("security: TOTP time before the epoch");
  if (step_seconds <= 0) throw std::invalid_argument("security: TOTP step must be positive");
  return unix_time / step_seconds;
}

std::string totp(std::string_view key, std::int64_t unix_time, int step_seconds, int digits, DigestAlgorithm alg) {
  const auto counter = totp_counter(unix_time, step_seconds);
  return hotp(key, static_cast<std::uint64_t>(counter), digits, alg);
}

std::optional<std::int64_t> totp_match(std::string_view key, std::string_view code, std::int64_t unix_time,
                                       int window_steps, int step_seconds, int digits, DigestAlgorithm alg) {
  require_digits(digits);
  const std::int64_t current = totp_counter(unix_time, step_seconds);
  if (code.size() != static_cast<std::size_t>(digits) || !all_ascii_digits(code)) {
    return std::nullopt;
  }
  const std::int64_t window = std::max(window_steps, 0);
  std::optional<std::int64_t> matched;
  // Check every step of the window without stopping early; keep the earliest match.
  for (std::int64_t counter = current - window; counter <= current + window; ++counter) {
    if (counter < 0) continue;
    const std::string expected = hotp(key, static_cast<std::uint64_t>(counter), digits, alg);
    if (constant_time_equal(expected, code) && !matched) matched = counter;
  }
  return matched;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view base32_secret, int digits,
                        int period, DigestAlgorithm alg) {
  std::string secret;
  for (const char c : base32_secret) {
    if (c != '=' && c != ' ') secret += c;
  }
  std::string uri = "otpauth://totp/";
  if (!issuer.empty()) uri += percent_encode(issuer) + ':';
  uri += percent_encode(account);
  uri += "?secret=" + percent_encode(secret);
  if (!issuer.empty()) uri += "&issuer=" + percent_encode(issuer);
  uri += "&algorithm=";
  uri += algorithm_label(alg);
  uri += "&digits=" + std::to_string(digits);
  uri += "&period=" + std::to_string(period);
  return uri;
}

}  // namespace security
