#include "security/encoding.hpp"

#include <array>
#include <cstdint>

namespace security {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

constexpr int kInvalid = -1;

// Reverse lookup: character -> value in alphabet, or kInvalid.
using DecodeTable = std::array<int, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet, bool fold_lower_case) {
  DecodeTable table{};
  for (auto& entry : table) entry = kInvalid;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    const auto c = static_cast<unsigned char>(alphabet[i]);
    table[c] = static_cast<int>(i);
    if (fold_lower_case && c >= 'A' && c <= 'Z') table[c - 'A' + 'a'] = static_cast<int>(i);
  }
  return table;
}

constexpr DecodeTable kHexTable = make_decode_table("0123456789ABCDEF", true);
constexpr DecodeTable kBase64Table = make_decode_table(kBase64Alphabet, false);
constexpr DecodeTable kBase64UrlTable = make_decode_table(kBase64UrlAlphabet, false);
constexpr DecodeTable kBase32Table = make_decode_table(kBase32Alphabet, true);

int lookup(const DecodeTable& table, char c) { return table[static_cast<unsigned char>(c)]; }

std::string encode_base64_with(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                                (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                                static_cast<std::uint8_t>(bytes[i + 2]);
    out += alphabet[(group >> 18) & 0x3F];
    out += alphabet[(group >> 12) & 0x3F];
    out += alphabet[(group >> 6) & 0x3F];
    out += alphabet[group & 0x3F];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t group = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
  if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
  out += alphabet[(group >> 18) & 0x3F];
  out += alphabet[(group >> 12) & 0x3F];
  if (rest == 2) out += alphabet[(group >> 6) & 0x3F];
  if (pad) out.append(3 - rest, '=');
  return out;
}

// Strict decoder shared by both base64 alphabets: optional correct padding, no whitespace,
// unused trailing bits must be zero.
std::optional<std::string> decode_base64_with(std::string_view text, const DecodeTable& table) {
  if (!text.empty() && text.back() == '=') {
    if (text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;

  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = lookup(table, c);
    if (value == kInvalid) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0x0F];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = lookup(kHexTable, hex[i]);
    const int low = lookup(kHexTable, hex[i + 1]);
    if (high == kInvalid || low == kInvalid) return std::nullopt;
    out += static_cast<char>((high << 4) | low);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) { return encode_base64_with(bytes, kBase64Alphabet, true); }

std::string base64url_encode(std::string_view bytes) { return encode_base64_with(bytes, kBase64UrlAlphabet, false); }

std::optional<std::string> base64_decode(std::string_view text) { return decode_base64_with(text, kBase64Table); }

std::optional<std::string> base64url_decode(std::string_view text) { return decode_base64_with(text, kBase64UrlTable); }

std::string base32_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kBase32Alphabet[(buffer >> bits) & 0x1F];
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 0x1F];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t symbols = 0;
  for (const char c : text) {
    if (c == '=' || c == ' ') continue;
    const int value = lookup(kBase32Table, c);
    if (value == kInvalid) return std::nullopt;
    ++symbols;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // A final group of 1, 3 or 6 symbols cannot come from whole bytes.
  switch (symbols % 8) {
    case 1:
    case 3:
    case 6: return std::nullopt;
    default: return out;
  }
}

}  // namespace security
