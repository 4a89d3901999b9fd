// security/api_key.hpp: generation format, strict parsing and keyed digests.
#include "security/api_key.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <stdexcept>

#include "security/digest.hpp"

using namespace security;

TEST_CASE("generate_api_key: prefix + 12 hex id, 43-character base64url secret", "[api-key]") {
  const ApiKey key = generate_api_key("tc_");
  CHECK(std::regex_match(key.id, std::regex("tc_[0-9a-f]{12}")));
  CHECK(std::regex_match(key.secret, std::regex("[A-Za-z0-9_-]{43}")));
  CHECK(key.full() == key.id + "." + key.secret);
  CHECK(std::regex_match(generate_api_key().id, std::regex("[0-9a-f]{12}")));
  CHECK(generate_api_key().secret != generate_api_key().secret);
}

TEST_CASE("generate_api_key refuses prefixes that would break parsing", "[api-key]") {
  CHECK_THROWS_AS(generate_api_key("bad."), std::invalid_argument);
  CHECK_THROWS_AS(generate_api_key("sp ace"), std::invalid_argument);
}

TEST_CASE("parse_api_key round-trips generated keys", "[api-key]") {
  const ApiKey key = generate_api_key("ag-");
  const auto parsed = parse_api_key(key.full());
  REQUIRE(parsed);
  CHECK(parsed->id == key.id);
  CHECK(parsed->secret == key.secret);
  const auto simple = parse_api_key("ab.c-d_E9");
  REQUIRE(simple);
  CHECK(simple->id == "ab");
  CHECK(simple->secret == "c-d_E9");
}

TEST_CASE("parse_api_key rejects bad inputs", "[api-key]") {
  const auto text = GENERATE(as<std::string>{}, "", ".", "abc", "abc.", ".abc", "a.b.c", "a b.c", "a.b c", "a.b+c",
                             "a.b/", "a.b=", "a\n.b", "ä.b", "id.secret\n");
  CAPTURE(text);
  CHECK_FALSE(parse_api_key(text));
  CHECK_FALSE(parse_api_key(std::string("a.b\0c", 5)));
}

TEST_CASE("parse_api_key bounds the length", "[api-key]") {
  CHECK(parse_api_key("a." + std::string(510, 'x')));
  CHECK_FALSE(parse_api_key("a." + std::string(511, 'x')));
}

TEST_CASE("api_key_digest is HMAC-SHA256 hex under the server key", "[api-key]") {
  const std::string digest = api_key_digest("server-key", "secret");
  CHECK(digest == hmac_sha256_hex("server-key", "secret"));
  CHECK(digest.size() == 64);
  CHECK(api_key_digest("other-key", "secret") != digest);
  CHECK(api_key_matches("server-key", "secret", digest));
  CHECK_FALSE(api_key_matches("server-key", "secret2", digest));
  CHECK_FALSE(api_key_matches("server-key", "secret", digest.substr(1)));
}
