#include "security/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "openssl_handles.hpp"
#include "security/encoding.hpp"

namespace security {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  // RAND_bytes takes an int length: fill large requests in chunks.
  for (std::size_t offset = 0; offset < n;) {
    const std::size_t chunk = std::min<std::size_t>(n - offset, INT_MAX);
    if (RAND_bytes(detail::bytes(out) + offset, static_cast<int>(chunk)) != 1) {
      detail::throw_openssl_error("RAND_bytes");
    }
    offset += chunk;
  }
  return out;
}

std::string random_token(std::size_t bytes) { return base64url_encode(random_bytes(bytes)); }

std::string random_hex(std::size_t bytes) { return hex_encode(random_bytes(bytes)); }

std::string random_id(std::string_view prefix, std::size_t hex_chars) {
  std::string hex = random_hex((hex_chars + 1) / 2);
  hex.resize(hex_chars);
  std::string id(prefix);
  id += hex;
  return id;
}

std::string uuid_v4() {
  std::string raw = random_bytes(16);
  raw[6] = static_cast<char>((static_cast<unsigned char>(raw[6]) & 0x0F) | 0x40);  // version 4
  raw[8] = static_cast<char>((static_cast<unsigned char>(raw[8]) & 0x3F) | 0x80);  // RFC 4122 variant
  const std::string hex = hex_encode(raw);
  std::string out;
  out.reserve(36);
  out.append(hex, 0, 8).append(1, '-');
  out.append(hex, 8, 4).append(1, '-');
  out.append(hex, 12, 4).append(1, '-');
  out.append(hex, 16, 4).append(1, '-');
  out.append(hex, 20, 12);
  return out;
}

}  // namespace security
