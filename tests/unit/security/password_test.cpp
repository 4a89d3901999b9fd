// security/password.hpp: Argon2id PHC strings, verification, rehash policy, dummy hash.
#include "security/password.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace security;

TEST_CASE("password_hash produces an Argon2id PHC string with OWASP parameters", "[password]") {
  const std::string hash = password_hash("correct horse battery staple");
  // 16-byte salt -> 22 base64 characters, 32-byte tag -> 43, no padding.
  CHECK(
      std::regex_match(hash, std::regex(R"(\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43})")));
  CHECK_FALSE(password_needs_rehash(hash));
}

TEST_CASE("password_verify accepts the password and nothing else", "[password]") {
  const std::string hash = password_hash("correct horse battery staple");
  CHECK(password_verify("correct horse battery staple", hash));
  CHECK_FALSE(password_verify("correct horse battery stapl", hash));
  CHECK_FALSE(password_verify("Correct horse battery staple", hash));
  CHECK_FALSE(password_verify("", hash));
}

TEST_CASE("password_hash salts every hash", "[password]") {
  const std::string a = password_hash("same");
  const std::string b = password_hash("same");
  CHECK(a != b);
  CHECK(password_verify("same", a));
  CHECK(password_verify("same", b));
}

TEST_CASE("empty and binary passwords hash and verify", "[password]") {
  const std::string empty = password_hash("");
  CHECK(password_verify("", empty));
  CHECK_FALSE(password_verify(" ", empty));
  const std::string binary("p\0w", 3);
  const std::string hash = password_hash(binary);
  CHECK(password_verify(binary, hash));
  CHECK_FALSE(password_verify("p", hash));
}

// Known answer computed with Debian's argon2 CLI (package argon2 0~20171227):
//   echo -n "correct horse battery staple" | argon2 "platform-salt-16" -id -t 2 -k 19456 -p 1 -l 32
//   Hash: 441747ac5ddbe83462178429e911f252bc7fe4238782aef7d1edd8de8f14ea36
constexpr const char* kCliHash =
    "$argon2id$v=19$m=19456,t=2,p=1$cGxhdGZvcm0tc2FsdC0xNg$"
    "RBdHrF3b6DRiF4Qp6RHyUrx/5COHgq730e3Y3o8U6jY";

// Weaker legacy parameters, same CLI:
//   echo -n "hunter2" | argon2 "legacy-salt" -id -t 1 -k 8192 -p 1 -l 32 -e
constexpr const char* kCliLegacyHash =
    "$argon2id$v=19$m=8192,t=1,p=1$bGVnYWN5LXNhbHQ$07JdZ6Ts7/V92gcH858cNh7mgihTbjCYI6J8PEG0dGg";

TEST_CASE("password_verify agrees with the argon2 reference CLI", "[password][kat]") {
  CHECK(password_verify("correct horse battery staple", kCliHash));
  CHECK_FALSE(password_verify("correct horse battery staple ", kCliHash));
  CHECK_FALSE(password_needs_rehash(kCliHash));

  CHECK(password_verify("hunter2", kCliLegacyHash));
  CHECK_FALSE(password_verify("hunter3", kCliLegacyHash));
  CHECK(password_needs_rehash(kCliLegacyHash));
}

// The CLI hash's salt and tag behind other algorithm/parameter prefixes.
std::string with_prefix(const std::string& prefix) {
  return prefix + "$cGxhdGZvcm0tc2FsdC0xNg$RBdHrF3b6DRiF4Qp6RHyUrx/5COHgq730e3Y3o8U6jY";
}

TEST_CASE("password_verify returns false on malformed hashes without throwing", "[password]") {
  const std::string good = kCliHash;
  REQUIRE(with_prefix("$argon2id$v=19$m=19456,t=2,p=1") == good);
  const std::string tag = good.substr(good.rfind('$'));
  const auto bad = GENERATE_COPY(std::string(), std::string("plaintext"), std::string("$argon2id$"),
                                 good.substr(0, good.size() - 1),                      // tag cut short (bad base64)
                                 good.substr(0, good.rfind('$')),                      // no tag
                                 good + "$extra",                                      // extra field
                                 with_prefix("$argon2i$v=19$m=19456,t=2,p=1"),         // Argon2i, not Argon2id
                                 with_prefix("$argon2id$v=16$m=19456,t=2,p=1"),        // old version
                                 with_prefix("$argon2id$m=19456,t=2,p=1"),             // version missing
                                 with_prefix("$argon2id$v=19$m=019456,t=2,p=1"),       // leading zero
                                 with_prefix("$argon2id$v=19$t=2,m=19456,p=1"),        // parameters out of order
                                 with_prefix("$argon2id$v=19$m=19456,t=0,p=1"),        // zero iterations
                                 with_prefix("$argon2id$v=19$m=19456,t=2,p=0"),        // zero lanes
                                 with_prefix("$argon2id$v=19$m=4294967295,t=2,p=1"),   // 4 TiB: refused, not attempted
                                 with_prefix("$argon2id$v=19$m=99999999999,t=2,p=1"),  // overflows 32 bits
                                 with_prefix("$argon2id$v=19$m=19456,t=2,p=1,k=1"),    // unknown parameter
                                 "$argon2id$v=19$m=19456,t=2,p=1$c2hvcnQ" + tag,       // 5-byte salt
                                 "$argon2id$v=19$m=19456,t=2,p=1$cGxhdGZvcm0tc2FsdC0xNg==" + tag,  // padded salt
                                 "$argon2id$v=19$m=19456,t=2,p=1$cGxhdGZvcm0t!2FsdC0xNg" + tag,    // bad base64
                                 std::string("$argon2id$v=19$m=19456,t=2,p=1$cGxhdGZvcm0tc2FsdC0xNg$RBdHrF3b6DRi"));
  CAPTURE(bad);
  bool verified = true;
  CHECK_NOTHROW(verified = password_verify("correct horse battery staple", bad));
  CHECK_FALSE(verified);
  CHECK(password_needs_rehash(bad));
}

TEST_CASE("password_needs_rehash flags weaker parameters", "[password]") {
  CHECK(password_needs_rehash(with_prefix("$argon2id$v=19$m=12288,t=3,p=1")));        // less memory
  CHECK(password_needs_rehash(with_prefix("$argon2id$v=19$m=19456,t=1,p=1")));        // fewer passes
  CHECK_FALSE(password_needs_rehash(with_prefix("$argon2id$v=19$m=65536,t=3,p=4")));  // stronger
  CHECK(password_needs_rehash("not a hash"));
}

TEST_CASE("password_dummy_hash is one valid current-parameter hash", "[password]") {
  const std::string& dummy = password_dummy_hash();
  CHECK(&dummy == &password_dummy_hash());
  CHECK(dummy.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
  CHECK_FALSE(password_needs_rehash(dummy));
  CHECK_FALSE(password_verify("", dummy));
  CHECK_FALSE(password_verify("password", dummy));
}

TEST_CASE("no more hashes run at once than there are cores, and all of them are right", "[password]") {
  const std::string hash = password_hash("many at once");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  std::atomic<int> verified{0};
  for (unsigned i = 0; i < 4 * cores + 2; ++i)
    threads.emplace_back([&] {
      if (password_verify("many at once", hash)) ++verified;
    });
  for (auto& t : threads) t.join();
  CHECK(verified.load() == static_cast<int>(4 * cores + 2));
  CHECK(password_peak_concurrency() >= 1);
  CHECK(password_peak_concurrency() <= static_cast<int>(cores));
}
