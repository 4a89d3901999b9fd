// security/digest.hpp: FIPS 180-2 SHA-256, RFC 4231 HMAC-SHA256 and constant-time compare.
#include "security/digest.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "security/encoding.hpp"
#include "unhex.hpp"

using namespace security;

TEST_CASE("SHA-256 matches FIPS 180-2 examples", "[digest]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256("abc") == unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK(digest(DigestAlgorithm::Sha256, "abc") == sha256("abc"));
}

TEST_CASE("digest sizes", "[digest]") {
  CHECK(digest_size(DigestAlgorithm::Sha1) == 20);
  CHECK(digest_size(DigestAlgorithm::Sha256) == 32);
  CHECK(digest_size(DigestAlgorithm::Sha512) == 64);
  CHECK(digest(DigestAlgorithm::Sha512, "abc").size() == 64);
}

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[digest][hmac]") {
  SECTION("test case 1") {
    CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  SECTION("test case 2: key shorter than the output") {
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  SECTION("test case 3") {
    CHECK(hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  }
  SECTION("test case 4") {
    CHECK(hmac_sha256_hex(unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd')) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  }
  SECTION("test case 5: output truncated to 128 bits") {
    CHECK(hmac_sha256_hex(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
  }
  SECTION("test case 6: key larger than the block size") {
    CHECK(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  SECTION("test case 7: key and data larger than the block size") {
    CHECK(hmac_sha256_hex(std::string(131, '\xaa'),
                          "This is a test using a larger than block-size key and a larger "
                          "than block-size data. The key needs to be hashed before being "
                          "used by the HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  }
}

TEST_CASE("hmac() covers SHA-1 (RFC 2202) and SHA-512 (RFC 4231)", "[digest][hmac]") {
  CHECK(hex_encode(hmac(DigestAlgorithm::Sha1, std::string(20, '\x0b'), "Hi There")) ==
        "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(hex_encode(hmac(DigestAlgorithm::Sha512, "Jefe", "what do ya want for nothing?")) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  CHECK(hmac(DigestAlgorithm::Sha256, "k", "d") == hmac_sha256("k", "d"));
}

TEST_CASE("HMAC accepts empty keys and data", "[digest][hmac]") {
  // Independent value: HMAC-SHA256 with empty key over empty message.
  CHECK(hmac_sha256_hex("", "") == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  CHECK(hmac_sha256("", "x").size() == 32);
}

TEST_CASE("constant_time_equal compares content and length", "[digest][constant-time]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "Secret"));   // first byte differs
  CHECK_FALSE(constant_time_equal("secret", "secreT"));   // last byte differs
  CHECK_FALSE(constant_time_equal("secret", "secret2"));  // prefix, longer
  CHECK_FALSE(constant_time_equal("secret", "secre"));    // prefix, shorter
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a")));
}

TEST_CASE("null-data views hash like empty strings", "[digest]") {
  CHECK(sha256(std::string_view{}) == sha256(""));
  CHECK(hmac_sha256(std::string_view{}, std::string_view{}) == hmac_sha256("", ""));
  CHECK(constant_time_equal(std::string_view{}, ""));
}

TEST_CASE("HMAC keys prepared once give the same answers in any order and on any thread", "[digest][hmac]") {
  // More keys than a thread keeps prepared, interleaved, so reuse and eviction are both exercised.
  struct Vector {
    std::string key, data, mac;
  };
  const std::vector<Vector> vectors = {
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
  };
  auto all_match = [&] {
    bool ok = true;
    for (int round = 0; round < 3; ++round)
      for (std::size_t i = 0; i < vectors.size(); ++i) {
        const auto& v = vectors[(i * 5 + static_cast<std::size_t>(round)) % vectors.size()];
        ok = ok && hmac_sha256_hex(v.key, v.data) == v.mac && hmac_sha256_hex(v.key, v.data) == v.mac;
      }
    return ok;
  };
  CHECK(all_match());
  bool other_thread = false;
  std::thread([&] { other_thread = all_match(); }).join();
  CHECK(other_thread);
  // The same key under another algorithm is another prepared context.
  CHECK(hex_encode(hmac(DigestAlgorithm::Sha1, std::string(20, '\x0b'), "Hi There")) ==
        "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") == vectors[0].mac);
}
