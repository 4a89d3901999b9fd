// security/random.hpp: sizes, alphabets and formats of random values.
#include "security/random.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "security/encoding.hpp"

using namespace security;

TEST_CASE("random_bytes returns exactly n bytes and differs between calls", "[random]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(1).size() == 1);
  CHECK(random_bytes(1000).size() == 1000);
  CHECK(random_bytes(32) != random_bytes(32));
}

TEST_CASE("random_token is base64url of the requested bytes", "[random]") {
  const std::string token = random_token();
  CHECK(token.size() == 43);
  CHECK(std::regex_match(token, std::regex("[A-Za-z0-9_-]{43}")));
  const auto raw = base64url_decode(token);
  REQUIRE(raw);
  CHECK(raw->size() == 32);
  CHECK(random_token(16).size() == 22);
}

TEST_CASE("random_hex is lowercase hex of the requested bytes", "[random]") {
  CHECK(std::regex_match(random_hex(16), std::regex("[0-9a-f]{32}")));
  CHECK(random_hex(0).empty());
}

TEST_CASE("random_id is the prefix followed by exactly hex_chars hex characters", "[random]") {
  CHECK(std::regex_match(random_id("ag-", 12), std::regex("ag-[0-9a-f]{12}")));
  CHECK(std::regex_match(random_id("", 5), std::regex("[0-9a-f]{5}")));
  CHECK(random_id("x", 0) == "x");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_id("ag-", 12));
  CHECK(seen.size() == 1000);
}

TEST_CASE("uuid_v4 has the RFC 4122 version and variant", "[random]") {
  const std::regex format("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = uuid_v4();
    REQUIRE(std::regex_match(id, format));
    seen.insert(id);
  }
  CHECK(seen.size() == 200);
}
