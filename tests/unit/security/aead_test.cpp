// security/aead.hpp: AES-256-GCM known answers (GCM spec test cases 13, 14, 16) and tampering.
#include "security/aead.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "security/encoding.hpp"
#include "security/random.hpp"
#include "unhex.hpp"

using namespace security;

namespace {

std::string flip_bit(std::string text, std::size_t index, int bit = 0) {
  text[index] = static_cast<char>(text[index] ^ (1 << bit));
  return text;
}

}  // namespace

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B.
TEST_CASE("AES-256-GCM matches the GCM specification test vectors", "[aead][kat]") {
  SECTION("test case 13: zero key, zero IV, empty plaintext") {
    const std::string out = aes256_gcm_encrypt(std::string(32, '\0'), std::string(12, '\0'), "");
    CHECK(hex_encode(out) == "530f8afbc74536b9a963b4f1c4cb738b");
  }
  SECTION("test case 14: zero key, zero IV, one zero block") {
    const std::string out = aes256_gcm_encrypt(std::string(32, '\0'), std::string(12, '\0'), std::string(16, '\0'));
    CHECK(hex_encode(out) ==
          "cea7403d4d606b6e074ec5d3baf39d18"    // ciphertext
          "d0d1c8a799996bf0265b98b5d48ab919");  // tag
  }
  SECTION("test case 16: 60-byte plaintext with 20 bytes of AAD") {
    const std::string key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const std::string iv = unhex("cafebabefacedbaddecaf888");
    const std::string plaintext = unhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    const std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const std::string expected = unhex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b");

    CHECK(aes256_gcm_encrypt(key, iv, plaintext, aad) == expected);
    CHECK(aes256_gcm_decrypt(key, iv, expected, aad) == plaintext);
    CHECK_FALSE(aes256_gcm_decrypt(key, iv, flip_bit(expected, expected.size() - 1), aad));
    CHECK_FALSE(aes256_gcm_decrypt(key, iv, expected, aad.substr(1)));
    // aead_open reads the same layout with the nonce in front.
    CHECK(aead_open(key, iv + expected, aad) == plaintext);
  }
}

TEST_CASE("aead_seal / aead_open round trip", "[aead]") {
  const std::string key = random_bytes(32);
  const auto plaintext =
      GENERATE(std::string(), std::string("totp-secret"), std::string(1 << 20, 'x'), std::string("\0\1\2", 3));
  const std::string sealed = aead_seal(key, plaintext, "user:42");
  CHECK(sealed.size() == kAeadNonceBytes + plaintext.size() + kAeadTagBytes);
  CHECK(aead_open(key, sealed, "user:42") == plaintext);
}

TEST_CASE("aead_seal uses a fresh nonce every time", "[aead]") {
  const std::string key = random_bytes(32);
  const std::string a = aead_seal(key, "same");
  const std::string b = aead_seal(key, "same");
  CHECK(a.substr(0, kAeadNonceBytes) != b.substr(0, kAeadNonceBytes));
  CHECK(a != b);
}

TEST_CASE("aead_open refuses any flipped bit in nonce, ciphertext or tag", "[aead]") {
  const std::string key = random_bytes(32);
  const std::string sealed = aead_seal(key, "attack at dawn", "aad");
  REQUIRE(aead_open(key, sealed, "aad"));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int bit : {0, 7}) {
      CAPTURE(i, bit);
      REQUIRE_FALSE(aead_open(key, flip_bit(sealed, i, bit), "aad"));
    }
  }
}

TEST_CASE("aead_open refuses wrong key, wrong aad and short input", "[aead]") {
  const std::string key = random_bytes(32);
  const std::string sealed = aead_seal(key, "payload", "context-a");
  CHECK_FALSE(aead_open(random_bytes(32), sealed, "context-a"));
  CHECK_FALSE(aead_open(flip_bit(key, 0), sealed, "context-a"));
  CHECK_FALSE(aead_open(key, sealed, "context-b"));
  CHECK_FALSE(aead_open(key, sealed));
  CHECK_FALSE(aead_open(key, sealed.substr(0, sealed.size() - 1), "context-a"));
  CHECK_FALSE(aead_open(key, sealed + "x", "context-a"));
  CHECK_FALSE(aead_open(key, sealed.substr(0, kAeadNonceBytes + kAeadTagBytes - 1), "context-a"));
  CHECK_FALSE(aead_open(key, "", "context-a"));
  CHECK_FALSE(aead_open(key.substr(0, 31), sealed, "context-a"));
}

TEST_CASE("aead_seal requires a 32-byte key", "[aead]") {
  CHECK_THROWS_AS(aead_seal(std::string(31, 'k'), "x"), std::invalid_argument);
  CHECK_THROWS_AS(aead_seal(std::string(33, 'k'), "x"), std::invalid_argument);
  CHECK_THROWS_AS(aes256_gcm_encrypt(std::string(32, 'k'), std::string(16, 'n'), "x"), std::invalid_argument);
}

TEST_CASE("parse_key_hex32 accepts exactly 64 hex characters", "[aead]") {
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";
  const auto key = parse_key_hex32(hex);
  REQUIRE(key);
  CHECK(key->size() == 32);
  CHECK((*key)[31] == '\x1f');
  CHECK_FALSE(parse_key_hex32(hex.substr(1)));
  CHECK_FALSE(parse_key_hex32(hex + "0"));
  CHECK_FALSE(parse_key_hex32(hex.substr(2) + "zz"));
  CHECK_FALSE(parse_key_hex32(""));
}
