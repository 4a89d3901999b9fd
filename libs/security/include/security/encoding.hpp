// Byte-string encodings: base16 (hex), base64, base64url and base32 (RFC 4648).
// Bytes travel as std::string / std::string_view; decoders return nullopt on bad input.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace security {

// Lowercase hex, two characters per byte.
std::string hex_encode(std::string_view bytes);

// Accepts upper or lower case; nullopt on odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);

// Standard alphabet (+/), padded with '=' to a multiple of 4.
std::string base64_encode(std::string_view bytes);

// URL-safe alphabet (-_), no padding.
std::string base64url_encode(std::string_view bytes);

// Standard alphabet, padding optional; nullopt on a foreign character, misplaced padding,
// impossible length or non-zero unused trailing bits (so every input has one encoding).
std::optional<std::string> base64_decode(std::string_view text);

// URL-safe alphabet, padding optional; same strictness as base64_decode.
std::optional<std::string> base64url_decode(std::string_view text);

// RFC 4648 base32 alphabet (A-Z2-7), upper case, no padding.
std::string base32_encode(std::string_view bytes);

// Case-insensitive; '=' and ' ' are ignored anywhere; nullopt on a foreign character or a
// length that no byte string encodes to. Unused trailing bits are ignored (user-typed secrets).
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace security
