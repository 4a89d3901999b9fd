// security/totp.hpp: RFC 4226 Appendix D, RFC 6238 Appendix B, matching windows and URIs.
#include "security/totp.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using namespace security;

namespace {

// RFC 6238 Appendix B seeds: the ASCII digits repeated to the hash's natural key size.
const std::string kSeedSha1 = "12345678901234567890";
const std::string kSeedSha256 = "12345678901234567890123456789012";
const std::string kSeedSha512 = "1234567890123456789012345678901234567890123456789012345678901234";

}  // namespace

TEST_CASE("HOTP matches RFC 4226 Appendix D", "[totp][hotp]") {
  const char* const expected[] = {"755224", "287082", "359152", "969429", "338314",
                                  "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    CAPTURE(counter);
    CHECK(hotp(kSeedSha1, counter) == expected[counter]);
  }
}

TEST_CASE("TOTP matches RFC 6238 Appendix B", "[totp]") {
  const auto [time, sha1, sha256, sha512] = GENERATE(table<std::int64_t, std::string, std::string, std::string>({
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  }));
  CAPTURE(time);
  CHECK(totp(kSeedSha1, time, 30, 8, DigestAlgorithm::Sha1) == sha1);
  CHECK(totp(kSeedSha256, time, 30, 8, DigestAlgorithm::Sha256) == sha256);
  CHECK(totp(kSeedSha512, time, 30, 8, DigestAlgorithm::Sha512) == sha512);
  // Six digits are the low six of the eight.
  CHECK(totp(kSeedSha1, time) == sha1.substr(2));
}

TEST_CASE("totp_counter is floor(time / step)", "[totp]") {
  CHECK(totp_counter(0) == 0);
  CHECK(totp_counter(59) == 1);
  CHECK(totp_counter(60) == 2);
  CHECK(totp_counter(1111111109) == 0x23523EC);  // RFC 6238 table's T column
  CHECK_THROWS_AS(totp_counter(-1), std::invalid_argument);
  CHECK_THROWS_AS(totp_counter(10, 0), std::invalid_argument);
}

TEST_CASE("totp_match returns the matching step counter within the window", "[totp]") {
  const std::int64_t now = 1111111111;
  const std::int64_t step = now / 30;
  const std::string current = totp(kSeedSha1, now);

  CHECK(totp_match(kSeedSha1, current, now) == step);
  CHECK(totp_match(kSeedSha1, totp(kSeedSha1, now - 30), now) == step - 1);
  CHECK(totp_match(kSeedSha1, totp(kSeedSha1, now + 30), now) == step + 1);
  CHECK_FALSE(totp_match(kSeedSha1, totp(kSeedSha1, now - 60), now));
  CHECK(totp_match(kSeedSha1, totp(kSeedSha1, now - 60), now, 2) == step - 2);
  CHECK_FALSE(totp_match(kSeedSha1, totp(kSeedSha1, now - 30), now, 0));
  CHECK_FALSE(totp_match("another key", current, now));
}

TEST_CASE("totp_match keeps leading zeros and other digit counts", "[totp]") {
  CHECK(totp_match(kSeedSha1, "07081804", 1111111109, 0, 30, 8) == 1111111109 / 30);
  CHECK_FALSE(totp_match(kSeedSha1, "7081804", 1111111109, 0, 30, 8));
  CHECK(totp_match(kSeedSha512, "47863826", 20000000000, 1, 30, 8, DigestAlgorithm::Sha512) == 20000000000 / 30);
}

TEST_CASE("totp_match rejects codes that are not exactly `digits` ASCII digits", "[totp]") {
  const std::int64_t now = 59;
  const std::string code = totp(kSeedSha1, now);  // "287082"
  REQUIRE(code == "287082");
  CHECK_FALSE(totp_match(kSeedSha1, "", now));
  CHECK_FALSE(totp_match(kSeedSha1, "28708", now));
  CHECK_FALSE(totp_match(kSeedSha1, "2870820", now));
  CHECK_FALSE(totp_match(kSeedSha1, " 287082", now));
  CHECK_FALSE(totp_match(kSeedSha1, "287 82", now));
  CHECK_FALSE(totp_match(kSeedSha1, "28708a", now));
  CHECK_FALSE(totp_match(kSeedSha1, "+87082", now));
  CHECK_FALSE(totp_match(kSeedSha1, std::string("28708\0", 6), now));
}

TEST_CASE("totp_match near the epoch skips negative steps", "[totp]") {
  CHECK(totp_match(kSeedSha1, hotp(kSeedSha1, 0), 5, 1) == 0);
  CHECK(totp_match(kSeedSha1, hotp(kSeedSha1, 1), 5, 1) == 1);
}

TEST_CASE("OTP parameters out of range are programmer errors", "[totp]") {
  CHECK_THROWS_AS(hotp(kSeedSha1, 0, 5), std::invalid_argument);
  CHECK_THROWS_AS(hotp(kSeedSha1, 0, 11), std::invalid_argument);
  CHECK(hotp(kSeedSha1, 0, 10).size() == 10);
  CHECK_THROWS_AS(totp(kSeedSha1, -1), std::invalid_argument);
  CHECK_THROWS_AS(totp_match(kSeedSha1, "123456", 59, 1, 30, 4), std::invalid_argument);
}

TEST_CASE("otpauth_uri percent-encodes label and issuer", "[totp][uri]") {
  CHECK(otpauth_uri("Acme Co", "alice@example.com", "JBSWY3DPEHPK3PXP") ==
        "otpauth://totp/Acme%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP"
        "&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30");
  CHECK(otpauth_uri("", "bob", "MZXW6===", 8, 60, DigestAlgorithm::Sha256) ==
        "otpauth://totp/bob?secret=MZXW6&algorithm=SHA256&digits=8&period=60");
  CHECK(otpauth_uri("Ä:&?", "a/b c", "MZXW 6YTB") ==
        "otpauth://totp/%C3%84%3A%26%3F:a%2Fb%20c?secret=MZXW6YTB"
        "&issuer=%C3%84%3A%26%3F&algorithm=SHA1&digits=6&period=30");
}
