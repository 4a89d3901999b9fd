// security/jwt.hpp: round trips per algorithm, JWKs, RFC 7515 A.1, and every refusal path.
#include "security/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "security/digest.hpp"
#include "security/encoding.hpp"

using namespace security;
namespace json = boost::json;

namespace {

constexpr const char* kIssuer = "https://auth.test";
const std::string kSecret = "0123456789abcdef0123456789abcdef-hs256-test-secret";
constexpr std::int64_t kNow = 1'700'000'000;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};

std::string private_pem(EVP_PKEY* raw) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw);
  REQUIRE(key);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

const std::string& rsa_pem() {
  static const std::string pem = private_pem(EVP_RSA_gen(2048));
  return pem;
}

const std::string& other_rsa_pem() {
  static const std::string pem = private_pem(EVP_RSA_gen(2048));
  return pem;
}

const std::string& ec_pem() {
  static const std::string pem = private_pem(EVP_EC_gen("P-256"));
  return pem;
}

JwtCodec hs_codec() { return JwtCodec::hs256(kSecret, kIssuer); }

json::object claims_at(std::int64_t now, std::int64_t ttl = 300) {
  return json::object{{"sub", "user-1"}, {"iat", now}, {"exp", now + ttl}};
}

std::string segment(const json::object& object) { return base64url_encode(json::serialize(object)); }

struct Parts {
  std::string header, payload, signature;
};

Parts split(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

// A token whose signature is HMAC-SHA256 over header.payload under `key`, whatever "alg" says.
std::string forge_hmac(const json::object& header, const json::object& claims, std::string_view key) {
  const std::string input = segment(header) + "." + segment(claims);
  return input + "." + base64url_encode(hmac_sha256(key, input));
}

json::object standard_claims() {
  return json::object{{"sub", "user-1"}, {"iss", kIssuer}, {"iat", kNow}, {"exp", kNow + 300}};
}

std::string refusal(const JwtCodec& codec, const std::string& token, std::int64_t now = kNow) {
  std::string reason;
  const auto claims = codec.verify_at(token, now, &reason);
  CHECK_FALSE(claims);
  CHECK_FALSE(reason.empty());
  return reason;
}

}  // namespace

// ---- round trips ----------------------------------------------------------------------------

TEST_CASE("HS256 round trip", "[jwt]") {
  const JwtCodec codec = hs_codec();
  CHECK(codec.algorithm() == JwtAlgorithm::HS256);
  const std::string token = codec.sign(claims_at(kNow));
  std::string reason = "unchanged?";
  const auto claims = codec.verify_at(token, kNow + 10, &reason);
  REQUIRE(claims);
  CHECK(reason.empty());
  CHECK(claims->at("sub") == "user-1");
  CHECK(claims->at("iss") == kIssuer);
  CHECK(claims->at("exp") == kNow + 300);
  CHECK(codec.public_jwk().empty());
  CHECK(codec.key_id().empty());
}

TEST_CASE("RS256 round trip with a key detected from the PEM", "[jwt]") {
  const JwtCodec codec = JwtCodec::from_private_key_pem(rsa_pem(), kIssuer);
  CHECK(codec.algorithm() == JwtAlgorithm::RS256);
  const std::string token = codec.sign(claims_at(kNow));
  const auto claims = codec.verify_at(token, kNow);
  REQUIRE(claims);
  CHECK(claims->at("sub") == "user-1");
  CHECK(split(token).signature.size() == 342);  // 256-byte signature in base64url
}

TEST_CASE("ES256 round trip with a key detected from the PEM", "[jwt]") {
  const JwtCodec codec = JwtCodec::from_private_key_pem(ec_pem(), kIssuer);
  CHECK(codec.algorithm() == JwtAlgorithm::ES256);
  const std::string token = codec.sign(claims_at(kNow));
  const auto claims = codec.verify_at(token, kNow);
  REQUIRE(claims);
  CHECK(claims->at("sub") == "user-1");
  CHECK(split(token).signature.size() == 86);  // JOSE r||s, 64 bytes
}

TEST_CASE("sign adds iss and iat when absent and keeps them when present", "[jwt]") {
  const JwtCodec codec = hs_codec();
  const auto added = codec.verify(codec.sign(json::object{{"sub", "u"}}, std::chrono::minutes(5)));
  REQUIRE(added);
  CHECK(added->at("iss") == kIssuer);
  REQUIRE(added->at("iat").is_int64());
  CHECK(added->at("exp").as_int64() == added->at("iat").as_int64() + 300);

  const auto kept = codec.verify_at(codec.sign(json::object{{"iat", kNow - 5}, {"exp", kNow + 5}}), kNow);
  REQUIRE(kept);
  CHECK(kept->at("iat") == kNow - 5);
}

TEST_CASE("sign writes header alg, typ and kid", "[jwt]") {
  const JwtCodec codec = JwtCodec::from_private_key_pem(ec_pem(), kIssuer);
  const auto header = base64url_decode(split(codec.sign(claims_at(kNow))).header);
  REQUIRE(header);
  CHECK(*header == R"({"alg":"ES256","typ":"JWT","kid":")" + codec.key_id() + R"("})");
}

TEST_CASE("claims of every JSON type survive the round trip", "[jwt]") {
  const JwtCodec codec = hs_codec();
  json::object claims = claims_at(kNow);
  claims["roles"] = json::array{"admin", "ops"};
  claims["org"] = json::object{{"id", 7}, {"name", "Ünïcode \"quoted\""}};
  claims["flag"] = true;
  claims["nothing"] = nullptr;
  const auto back = codec.verify_at(codec.sign(claims), kNow);
  REQUIRE(back);
  CHECK(back->at("roles") == claims["roles"]);
  CHECK(back->at("org") == claims["org"]);
  CHECK(back->at("flag") == true);
  CHECK(back->at("nothing").is_null());
}

// RFC 7515 Appendix A.1: the published HS256 example (header with CRLF whitespace).
TEST_CASE("verifies the RFC 7515 A.1 HS256 example", "[jwt][kat]") {
  const auto key =
      base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  REQUIRE(key);
  const JwtCodec codec = JwtCodec::hs256(*key, "joe");
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0c"
      "nVlfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const auto claims = codec.verify_at(token, 1300819380 - 60);
  REQUIRE(claims);
  CHECK(claims->at("http://example.com/is_root") == true);
  CHECK(refusal(codec, token, 1300819380 + 31) == "expired");
}

// ---- keys and JWKs --------------------------------------------------------------------------

TEST_CASE("public_jwk of an ES256 codec is a P-256 EC key", "[jwt][jwk]") {
  const JwtCodec codec = JwtCodec::from_private_key_pem(ec_pem(), kIssuer);
  const json::object jwk = codec.public_jwk();
  CHECK(jwk.at("kty") == "EC");
  CHECK(jwk.at("crv") == "P-256");
  CHECK(jwk.at("alg") == "ES256");
  CHECK(jwk.at("use") == "sig");
  CHECK(jwk.at("kid").as_string() == codec.key_id());
  CHECK(jwk.at("x").as_string().size() == 43);
  CHECK(jwk.at("y").as_string().size() == 43);
  CHECK_FALSE(jwk.contains("d"));  // never the private part
  // kid is the RFC 7638 thumbprint.
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + std::string(jwk.at("x").as_string()) +
                                R"(","y":")" + std::string(jwk.at("y").as_string()) + R"("})";
  CHECK(codec.key_id() == base64url_encode(sha256(canonical)));
}

TEST_CASE("public_jwk of an RS256 codec is an RSA key", "[jwt][jwk]") {
  const JwtCodec codec = JwtCodec::from_private_key_pem(rsa_pem(), kIssuer);
  const json::object jwk = codec.public_jwk();
  CHECK(jwk.at("kty") == "RSA");
  CHECK(jwk.at("e") == "AQAB");
  CHECK(jwk.at("n").as_string().size() == 342);
  CHECK(jwk.at("alg") == "RS256");
  CHECK(jwk.at("kid").as_string() == codec.key_id());
  CHECK_FALSE(jwk.contains("d"));
  const std::string canonical = R"({"e":"AQAB","kty":"RSA","n":")" + std::string(jwk.at("n").as_string()) + R"("})";
  CHECK(codec.key_id() == base64url_encode(sha256(canonical)));
}

TEST_CASE("a verify-only codec from the public key accepts the signer's tokens", "[jwt]") {
  for (const std::string* pem : {&rsa_pem(), &ec_pem()}) {
    const JwtCodec signer = JwtCodec::from_private_key_pem(*pem, kIssuer);
    const JwtCodec verifier = JwtCodec::from_public_key_pem(signer.public_key_pem(), kIssuer);
    CHECK(verifier.algorithm() == signer.algorithm());
    CHECK(verifier.public_jwk() == signer.public_jwk());
    CHECK(verifier.verify_at(signer.sign(claims_at(kNow)), kNow));
    CHECK_THROWS_AS(verifier.sign(claims_at(kNow)), std::logic_error);
  }
}

TEST_CASE("codec construction refuses weak or unsupported keys", "[jwt]") {
  CHECK_THROWS_AS(JwtCodec::hs256("", kIssuer), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec::hs256(std::string(31, 'k'), kIssuer), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec::from_private_key_pem("not a pem", kIssuer), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec::from_private_key_pem(private_pem(EVP_RSA_gen(1024)), kIssuer), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec::from_private_key_pem(private_pem(EVP_EC_gen("P-384")), kIssuer), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec::from_public_key_pem(rsa_pem(), kIssuer), std::invalid_argument);
}

// ---- refusals -------------------------------------------------------------------------------

TEST_CASE("a header alg other than the pinned one is refused before the signature", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
  // The signature is garbage: the reason shows the alg check ran first.
  const std::string token = segment(header) + "." + segment(standard_claims()) + ".AAAA";
  CHECK_THAT(refusal(codec, token), Catch::StartsWith("algorithm mismatch"));

  for (const char* alg : {"HS384", "HS512", "ES256", "hs256", "HS256 ", ""}) {
    CAPTURE(alg);
    header["alg"] = alg;
    CHECK_THAT(refusal(codec, forge_hmac(header, standard_claims(), kSecret)), Catch::StartsWith("algorithm mismatch"));
  }
}

TEST_CASE("alg none is refused in every spelling", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    CAPTURE(alg);
    const std::string unsigned_part =
        segment(json::object{{"alg", alg}, {"typ", "JWT"}}) + "." + segment(standard_claims());
    CHECK_THAT(refusal(codec, unsigned_part + "."), Catch::StartsWith("malformed"));
    CHECK(refusal(codec, unsigned_part + ".c2ln") == "algorithm none is not accepted");
    CHECK_THAT(refusal(codec, unsigned_part), Catch::StartsWith("malformed"));
  }
}

TEST_CASE("RS256 codec refuses HS256 tokens keyed with its public key (alg confusion)", "[jwt][reject]") {
  for (const std::string* pem : {&rsa_pem(), &ec_pem()}) {
    const JwtCodec codec = JwtCodec::from_private_key_pem(*pem, kIssuer);
    const std::string& public_pem = codec.public_key_pem();
    REQUIRE_FALSE(public_pem.empty());
    const std::string alg(jwt_algorithm_name(codec.algorithm()));

    const std::string confused =
        forge_hmac(json::object{{"alg", "HS256"}, {"typ", "JWT"}}, standard_claims(), public_pem);
    CHECK_THAT(refusal(codec, confused), Catch::StartsWith("algorithm mismatch"));

    // Same trick with the header claiming the right algorithm: the signature fails.
    const std::string relabelled =
        forge_hmac(json::object{{"alg", alg}, {"typ", "JWT"}}, standard_claims(), public_pem);
    CHECK(refusal(codec, relabelled) == "invalid signature");
  }
}

TEST_CASE("tampered payload, header or signature is refused", "[jwt][reject]") {
  for (const JwtCodec& codec : {hs_codec(), JwtCodec::from_private_key_pem(rsa_pem(), kIssuer),
                                JwtCodec::from_private_key_pem(ec_pem(), kIssuer)}) {
    CAPTURE(jwt_algorithm_name(codec.algorithm()));
    const std::string token = codec.sign(claims_at(kNow));
    const Parts parts = split(token);

    json::object escalated = claims_at(kNow);
    escalated["iss"] = kIssuer;
    escalated["sub"] = "admin";
    CHECK(refusal(codec, parts.header + "." + segment(escalated) + "." + parts.signature) == "invalid signature");

    std::string flipped = parts.signature;
    flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
    CHECK(refusal(codec, parts.header + "." + parts.payload + "." + flipped) == "invalid signature");

    const std::string other_header =
        segment(json::object{{"alg", jwt_algorithm_name(codec.algorithm())}, {"typ", "JWT"}, {"kid", "x"}});
    CHECK(refusal(codec, other_header + "." + parts.payload + "." + parts.signature) == "invalid signature");

    // Signature truncated or extended.
    CHECK_FALSE(codec.verify_at(token.substr(0, token.size() - 4), kNow));
    CHECK_FALSE(codec.verify_at(token + "AAAA", kNow));
  }
}

TEST_CASE("a token signed with another key is refused", "[jwt][reject]") {
  const JwtCodec other_hs = JwtCodec::hs256(kSecret + "-other", kIssuer);
  CHECK(refusal(hs_codec(), other_hs.sign(claims_at(kNow))) == "invalid signature");

  const JwtCodec rs = JwtCodec::from_private_key_pem(rsa_pem(), kIssuer);
  const JwtCodec other_rs = JwtCodec::from_private_key_pem(other_rsa_pem(), kIssuer);
  CHECK(refusal(rs, other_rs.sign(claims_at(kNow))) == "invalid signature");

  const JwtCodec es = JwtCodec::from_private_key_pem(ec_pem(), kIssuer);
  const JwtCodec other_es = JwtCodec::from_private_key_pem(private_pem(EVP_EC_gen("P-256")), kIssuer);
  CHECK(refusal(es, other_es.sign(claims_at(kNow))) == "invalid signature");
}

TEST_CASE("expiry is required and checked with leeway", "[jwt][reject]") {
  JwtCodec codec = hs_codec();
  CHECK(codec.leeway() == std::chrono::seconds(30));
  const std::string token = codec.sign(json::object{{"iat", kNow - 600}, {"exp", kNow}});

  CHECK(codec.verify_at(token, kNow - 1));
  CHECK(codec.verify_at(token, kNow + 29));  // within the 30 s leeway
  CHECK(refusal(codec, token, kNow + 30) == "expired");
  CHECK(refusal(codec, token, kNow + 3600) == "expired");

  codec.set_leeway(std::chrono::seconds(0));
  CHECK(refusal(codec, token, kNow) == "expired");
  CHECK(codec.verify_at(token, kNow - 1));

  CHECK(refusal(codec, codec.sign(json::object{{"sub", "u"}})) == "missing exp");
  CHECK_THAT(refusal(codec, codec.sign(json::object{{"exp", "tomorrow"}})), Catch::StartsWith("malformed"));
  CHECK_THAT(refusal(codec, codec.sign(json::object{{"exp", true}})), Catch::StartsWith("malformed"));
}

TEST_CASE("verify() checks expiry against the real clock", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  CHECK(codec.verify(codec.sign(json::object{}, std::chrono::minutes(5))));
  std::string reason;
  CHECK_FALSE(codec.verify(codec.sign(json::object{{"exp", 1000}}), &reason));
  CHECK(reason == "expired");
}

TEST_CASE("a token before its nbf is refused", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  json::object claims = claims_at(kNow, 3600);
  claims["nbf"] = kNow + 100;
  const std::string token = codec.sign(claims);
  CHECK(refusal(codec, token, kNow) == "not yet valid");
  CHECK(refusal(codec, token, kNow + 69) == "not yet valid");
  CHECK(codec.verify_at(token, kNow + 70));  // leeway
  CHECK(codec.verify_at(token, kNow + 200));

  claims["nbf"] = 5;  // a small nbf must not wrap around
  CHECK(codec.verify_at(codec.sign(claims), kNow));
}

TEST_CASE("a token issued in the future beyond the leeway is refused", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  // Signed as if at kNow + 100 and valid for an hour: at kNow it is not yet issued.
  const std::string token = codec.sign(claims_at(kNow + 100, 3600));
  CHECK(refusal(codec, token, kNow) == "issued in the future");
  CHECK(refusal(codec, token, kNow + 69) == "issued in the future");
  CHECK(codec.verify_at(token, kNow + 70));  // within the 30 s leeway: clock skew is tolerated
  CHECK(codec.verify_at(token, kNow + 100));
  JwtCodec strict = hs_codec();
  strict.set_leeway(std::chrono::seconds(0));
  CHECK(refusal(strict, strict.sign(claims_at(kNow + 1, 3600)), kNow) == "issued in the future");
}

TEST_CASE("a token from another issuer is refused", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  const JwtCodec other = JwtCodec::hs256(kSecret, "https://other.test");
  CHECK(refusal(codec, other.sign(claims_at(kNow))) == "wrong issuer");

  json::object claims = claims_at(kNow);
  claims["iss"] = 42;
  CHECK(refusal(codec, codec.sign(claims)) == "wrong issuer");
  CHECK(refusal(codec, forge_hmac(json::object{{"alg", "HS256"}}, claims_at(kNow), kSecret)) ==
        "wrong issuer");  // no iss at all
}

TEST_CASE("malformed tokens are refused without throwing", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  const std::string good = codec.sign(claims_at(kNow));
  const Parts p = split(good);
  const std::string not_object = base64url_encode("[1,2]");
  const std::string not_json = base64url_encode("{\"alg\":");
  const auto token =
      GENERATE_COPY(std::string(), std::string("."), std::string(".."), std::string("abc"), std::string("a.b"),
                    p.header + "." + p.payload,                                                   // two segments
                    good + ".extra",                                                              // four segments
                    "." + p.payload + "." + p.signature,                                          // empty header
                    p.header + ".." + p.signature,                                                // empty payload
                    "!!!" + good,                                                                 // bad base64
                    p.header + "." + p.payload + "." + p.signature + "=",                         // padding
                    p.header + "." + p.payload + ".+/" + p.signature.substr(2),                   // base64, not url
                    not_object + "." + p.payload + "." + p.signature,                             // header array
                    not_json + "." + p.payload + "." + p.signature,                               // header not JSON
                    segment(json::object{{"typ", "JWT"}}) + "." + p.payload + "." + p.signature,  // no alg
                    segment(json::object{{"alg", 256}}) + "." + p.payload + "." + p.signature,    // alg number
                    std::string(70 * 1024, 'a') + "." + p.payload + "." + p.signature);           // too long
  CAPTURE(token.substr(0, 80));
  std::optional<json::object> claims;
  CHECK_NOTHROW(claims = codec.verify_at(token, kNow));
  CHECK_FALSE(claims);
}

TEST_CASE("a payload that is not a JSON object is refused even when signed", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  const std::string header = segment(json::object{{"alg", "HS256"}, {"typ", "JWT"}});
  for (const char* payload : {"[1]", "\"text\"", "{\"exp\":", "null"}) {
    CAPTURE(payload);
    const std::string input = header + "." + base64url_encode(payload);
    const std::string token = input + "." + base64url_encode(hmac_sha256(kSecret, input));
    CHECK_THAT(refusal(codec, token), Catch::StartsWith("malformed"));
  }
}

TEST_CASE("crit and foreign typ headers are refused", "[jwt][reject]") {
  const JwtCodec codec = hs_codec();
  CHECK(refusal(codec, forge_hmac(json::object{{"alg", "HS256"}, {"crit", json::array{"exp"}}}, standard_claims(),
                                  kSecret)) == "unsupported critical header");
  CHECK(refusal(codec, forge_hmac(json::object{{"alg", "HS256"}, {"typ", "JWE"}}, standard_claims(), kSecret)) ==
        "unexpected typ");
  CHECK(codec.verify_at(forge_hmac(json::object{{"alg", "HS256"}}, standard_claims(), kSecret), kNow));
}
