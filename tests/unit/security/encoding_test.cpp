// security/encoding.hpp: RFC 4648 section 10 vectors, strictness and round trips.
#include "security/encoding.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <string>

using namespace security;

namespace {

std::string all_byte_values() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

std::string without_padding(std::string text) {
  text.erase(text.find_last_not_of('=') + 1);
  return text;
}

}  // namespace

TEST_CASE("base16 matches RFC 4648 section 10", "[encoding][hex]") {
  const auto [input, expected] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "66"},
      {"fo", "666F"},
      {"foo", "666F6F"},
      {"foob", "666F6F62"},
      {"fooba", "666F6F6261"},
      {"foobar", "666F6F626172"},
  }));
  std::string lower = expected;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(hex_encode(input) == lower);
  CHECK(hex_decode(expected) == input);
  CHECK(hex_decode(lower) == input);
}

TEST_CASE("hex_decode rejects odd length and foreign characters", "[encoding][hex]") {
  CHECK(hex_decode("DEADbeef") == std::string("\xde\xad\xbe\xef"));
  CHECK_FALSE(hex_decode("abc"));
  CHECK_FALSE(hex_decode("zz"));
  CHECK_FALSE(hex_decode("0x12"));
  CHECK_FALSE(hex_decode(" 12"));
}

TEST_CASE("base64 matches RFC 4648 section 10", "[encoding][base64]") {
  const auto [input, expected] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  }));
  CHECK(base64_encode(input) == expected);
  CHECK(base64_decode(expected) == input);
  CHECK(base64_decode(without_padding(expected)) == input);
  CHECK(base64url_encode(input) == without_padding(expected));
  CHECK(base64url_decode(expected) == input);
  CHECK(base64url_decode(without_padding(expected)) == input);
}

TEST_CASE("base64 and base64url differ only in the two last symbols", "[encoding][base64]") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64url_encode(bytes) == "-_-_");
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
  CHECK(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
  CHECK_FALSE(base64_decode("-_8="));
  CHECK_FALSE(base64url_decode("+/8="));
}

TEST_CASE("base64 decoders are strict", "[encoding][base64]") {
  CHECK_FALSE(base64_decode("Z"));      // impossible length
  CHECK_FALSE(base64_decode("Zg="));    // padding that does not complete a quantum
  CHECK_FALSE(base64_decode("Zg==="));  // too much padding
  CHECK_FALSE(base64_decode("Zh=="));   // non-zero unused bits: non-canonical
  CHECK_FALSE(base64_decode("Zm9="));   // non-zero unused bits
  CHECK_FALSE(base64_decode("Zm9v!"));
  CHECK_FALSE(base64_decode("Zm 9v"));
  CHECK_FALSE(base64_decode("Zm9v\n"));
  CHECK_FALSE(base64_decode("=Zm9"));
  CHECK_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
  CHECK_FALSE(base64url_decode("Zh"));
  CHECK_FALSE(base64url_decode("Zm9v."));
  CHECK(base64_decode("") == std::string());
}

TEST_CASE("base64 round-trips every byte value at every length", "[encoding][base64]") {
  const std::string bytes = all_byte_values();
  for (std::size_t n = 0; n <= bytes.size(); n += 7) {
    const std::string input = bytes.substr(bytes.size() - n);
    REQUIRE(base64_decode(base64_encode(input)) == input);
    REQUIRE(base64url_decode(base64url_encode(input)) == input);
  }
}

TEST_CASE("base32 matches RFC 4648 section 10", "[encoding][base32]") {
  const auto [input, expected] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "MY======"},
      {"fo", "MZXQ===="},
      {"foo", "MZXW6==="},
      {"foob", "MZXW6YQ="},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI======"},
  }));
  CHECK(base32_encode(input) == without_padding(expected));
  CHECK(base32_decode(expected) == input);
  CHECK(base32_decode(without_padding(expected)) == input);
}

TEST_CASE("base32_decode ignores case, spaces and padding", "[encoding][base32]") {
  CHECK(base32_decode("mzxw6ytboi") == std::string("foobar"));
  CHECK(base32_decode("MZXW 6YTB OI") == std::string("foobar"));
  CHECK(base32_decode("mZxW6yTbOi======") == std::string("foobar"));
  // RFC 6238's SHA-1 seed as authenticator apps see it.
  CHECK(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == std::string("12345678901234567890"));
}

TEST_CASE("base32_decode rejects foreign characters and impossible lengths", "[encoding][base32]") {
  CHECK_FALSE(base32_decode("MZXW1"));  // '1' is not in the alphabet
  CHECK_FALSE(base32_decode("MZXW0"));
  CHECK_FALSE(base32_decode("MZXW8"));
  CHECK_FALSE(base32_decode("MZ-XW"));
  CHECK_FALSE(base32_decode("A"));       // 1 symbol
  CHECK_FALSE(base32_decode("ABC"));     // 3 symbols
  CHECK_FALSE(base32_decode("ABCDEF"));  // 6 symbols
}

TEST_CASE("base32 round-trips every byte value", "[encoding][base32]") {
  const std::string bytes = all_byte_values();
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string input = bytes.substr(n * 5, n);
    REQUIRE(base32_decode(base32_encode(input)) == input);
  }
}
