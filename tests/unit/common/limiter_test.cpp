#include "common/limiter.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "common/clock.hpp"

namespace {

using common::LimitSpec;
using common::RateLimiter;
using common::TokenBucket;
using namespace std::chrono_literals;

// A fixed origin for fake time; steady_clock's epoch is arbitrary anyway.
const TokenBucket::Clock::time_point t0 = TokenBucket::Clock::time_point{} + 1000h;

LimitSpec spec_of(const char* text) {
  auto spec = LimitSpec::parse(text);
  REQUIRE(spec.has_value());
  return *spec;
}

}  // namespace

TEST_CASE("limiter: LimitSpec::parse accepts N, N/s, N/min, N/h and a burst", "[common][limiter]") {
  SECTION("bare number is per minute") {
    auto s = spec_of("20");
    CHECK(s.quota == 20);
    CHECK(s.period.count() == Approx(60));
    CHECK(s.burst == 20);
    CHECK(s.rate_per_second() == Approx(20.0 / 60));
  }
  SECTION("per minute") {
    auto s = spec_of("20/min");
    CHECK(s.quota == 20);
    CHECK(s.period.count() == Approx(60));
    CHECK(s.burst == 20);
  }
  SECTION("per second") {
    auto s = spec_of("5/s");
    CHECK(s.quota == 5);
    CHECK(s.period.count() == Approx(1));
    CHECK(s.burst == 5);
    CHECK(s.rate_per_second() == Approx(5));
  }
  SECTION("per hour") {
    auto s = spec_of("100/h");
    CHECK(s.quota == 100);
    CHECK(s.period.count() == Approx(3600));
    CHECK(s.burst == 100);
  }
  SECTION("burst") {
    auto s = spec_of("10/s:50");
    CHECK(s.quota == 10);
    CHECK(s.period.count() == Approx(1));
    CHECK(s.burst == 50);
    CHECK(spec_of("20/min:5").burst == 5);
    CHECK(spec_of("7:3").burst == 3);
  }
  SECTION("surrounding spaces are tolerated") {
    auto s = spec_of(" 5 / s ");
    CHECK(s.quota == 5);
    CHECK(s.period.count() == Approx(1));
  }
}

TEST_CASE("limiter: LimitSpec::parse rejects invalid forms", "[common][limiter]") {
  for (const char* text : {"", " ", "0", "-1", "abc", "5/day", "5/s:0", "5/s:-2", "5/s:", "5/", "/s", "5x", "0/s",
                           "5/s:abc", "nan", "inf", "5/min/s"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(LimitSpec::parse(text).has_value());
  }
}

TEST_CASE("limiter: LimitSpec::to_string round-trips", "[common][limiter]") {
  for (const char* text : {"20/min", "5/s", "100/h", "10/s:50"}) {
    INFO(text);
    auto s = spec_of(text);
    CHECK(s.to_string() == text);
    auto back = LimitSpec::parse(s.to_string());
    REQUIRE(back);
    CHECK(back->quota == s.quota);
    CHECK(back->burst == s.burst);
    CHECK(back->period.count() == Approx(s.period.count()));
  }
  CHECK(spec_of("20").to_string() == "20/min");
}

TEST_CASE("limiter: TokenBucket starts full and allows a burst of capacity", "[common][limiter]") {
  auto spec = spec_of("1/s:5");
  TokenBucket bucket(spec.burst, t0);
  CHECK(bucket.tokens() == Approx(5));
  CHECK(bucket.seconds_until_token(spec) == 0);
  CHECK(bucket.seconds_until_full(spec) == 0);
  for (int i = 0; i < 5; ++i) {
    INFO("request " << i);
    CHECK(bucket.take(spec, t0));
  }
  CHECK_FALSE(bucket.take(spec, t0));
  CHECK(bucket.tokens() == Approx(0).margin(1e-9));
  CHECK(bucket.seconds_until_token(spec) == Approx(1));
  CHECK(bucket.seconds_until_full(spec) == Approx(5));
}

TEST_CASE("limiter: TokenBucket refills over fake time and never beyond its capacity", "[common][limiter]") {
  auto spec = spec_of("2/s:4");  // one token every 0.5 s
  TokenBucket bucket(spec.burst, t0);
  for (int i = 0; i < 4; ++i) REQUIRE(bucket.take(spec, t0));
  REQUIRE_FALSE(bucket.take(spec, t0));

  // 0.25 s: half a token, still refused.
  CHECK_FALSE(bucket.take(spec, t0 + 250ms));
  CHECK(bucket.tokens() == Approx(0.5));
  CHECK(bucket.seconds_until_token(spec) == Approx(0.25));
  // 0.5 s: one token.
  CHECK(bucket.take(spec, t0 + 500ms));
  CHECK_FALSE(bucket.take(spec, t0 + 500ms));
  // 1.5 s later two more tokens have arrived.
  CHECK(bucket.take(spec, t0 + 1500ms));
  CHECK(bucket.take(spec, t0 + 1500ms));
  CHECK_FALSE(bucket.take(spec, t0 + 1500ms));

  // A long idle period fills the bucket only up to its capacity.
  CHECK(bucket.take(spec, t0 + 1h));
  CHECK(bucket.tokens() == Approx(3));
  CHECK(bucket.seconds_until_full(spec) == Approx(0.5));

  // Time going backwards neither refills nor breaks the bucket.
  CHECK(bucket.take(spec, t0));
  CHECK(bucket.tokens() == Approx(2));
}

TEST_CASE("limiter: the 21st request in a minute on a 20/min limiter is refused", "[common][limiter]") {
  RateLimiter limiter(spec_of("20/min"));
  SECTION("fake time") {
    for (int i = 1; i <= 20; ++i) {
      auto d = limiter.check("203.0.113.9", t0 + std::chrono::milliseconds(i));
      INFO("request " << i);
      CHECK(d.allowed);
      CHECK(d.limit == 20);
    }
    auto refused = limiter.check("203.0.113.9", t0 + 21ms);
    CHECK_FALSE(refused.allowed);
    CHECK(refused.remaining == 0);
    // 20/min is one token every 3 s.
    CHECK(refused.retry_after == 3);

    // After the advertised wait, one more request is allowed, and only one.
    auto later = t0 + 21ms + std::chrono::seconds(refused.retry_after);
    CHECK(limiter.check("203.0.113.9", later).allowed);
    CHECK_FALSE(limiter.check("203.0.113.9", later).allowed);
  }
  SECTION("real clock") {
    for (int i = 1; i <= 20; ++i) {
      INFO("request " << i);
      CHECK(limiter.check("198.51.100.1").allowed);
    }
    auto refused = limiter.check("198.51.100.1");
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after >= 1);
    CHECK(refused.retry_after <= 3);
  }
}

TEST_CASE("limiter: decisions report limit, remaining and retry_after", "[common][limiter]") {
  RateLimiter limiter(spec_of("1/s:3"));
  auto a = limiter.check("k", t0);
  CHECK(a.allowed);
  CHECK(a.limit == 3);
  CHECK(a.remaining == 2);
  CHECK(a.retry_after == 0);
  CHECK(limiter.check("k", t0).remaining == 1);
  CHECK(limiter.check("k", t0).remaining == 0);

  auto refused = limiter.check("k", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after == 1);

  // 0.9 s later: 0.9 tokens, refused; the wait rounds up to a whole second (>= 1).
  auto almost = limiter.check("k", t0 + 900ms);
  CHECK_FALSE(almost.allowed);
  CHECK(almost.retry_after == 1);

  // Slow refill: 1/h has one token per 3600 s.
  RateLimiter slow(spec_of("1/h"));
  CHECK(slow.check("k", t0).allowed);
  auto wait = slow.check("k", t0 + 600s);
  CHECK_FALSE(wait.allowed);
  CHECK(wait.retry_after >= 3000);  // 5/6 of a token missing at 1/3600 token per second
  CHECK(wait.retry_after <= 3001);
}

TEST_CASE("limiter: reset_unix is in the future while the bucket is not full", "[common][limiter]") {
  RateLimiter limiter(spec_of("20/min"));  // 3 s per token
  const auto before = common::unix_seconds();
  auto first = limiter.check("k", t0);
  const auto after = common::unix_seconds();
  REQUIRE(first.allowed);
  // One token used: full again in 3 s.
  CHECK(first.reset_unix > before);
  CHECK(first.reset_unix >= before + 3);
  CHECK(first.reset_unix <= after + 4);

  for (int i = 0; i < 19; ++i) (void)limiter.check("k", t0);
  const auto before_empty = common::unix_seconds();
  auto empty = limiter.check("k", t0);
  const auto after_empty = common::unix_seconds();
  CHECK_FALSE(empty.allowed);
  // Empty bucket: full again in 20 * 3 = 60 s.
  CHECK(empty.reset_unix >= before_empty + 60);
  CHECK(empty.reset_unix <= after_empty + 61);
}

TEST_CASE("limiter: keys are independent", "[common][limiter]") {
  RateLimiter limiter(spec_of("2/min"));
  CHECK(limiter.check("alice", t0).allowed);
  CHECK(limiter.check("alice", t0).allowed);
  CHECK_FALSE(limiter.check("alice", t0).allowed);

  auto bob = limiter.check("bob", t0);
  CHECK(bob.allowed);
  CHECK(bob.remaining == 1);
  CHECK(limiter.check("bob", t0).allowed);
  CHECK_FALSE(limiter.check("bob", t0).allowed);
  CHECK_FALSE(limiter.check("alice", t0).allowed);
  CHECK(limiter.size() == 2);
}

TEST_CASE("limiter: memory stays bounded however many distinct keys arrive", "[common][limiter]") {
  constexpr std::size_t kMaxKeys = 10'000;
  RateLimiter limiter(spec_of("5/s"), kMaxKeys);
  std::string key;
  std::size_t allowed = 0;
  for (std::size_t i = 0; i < 1'000'000; ++i) {
    key = "10.";
    key += std::to_string(i);
    if (limiter.check(key, t0).allowed) ++allowed;
  }
  CHECK(allowed == 1'000'000);  // every new key starts with a full bucket
  CHECK(limiter.size() <= kMaxKeys);
  CHECK(limiter.size() > kMaxKeys / 2);  // and the bound is actually used
}

TEST_CASE("limiter: eviction is least recently used; an evicted key starts full again", "[common][limiter]") {
  RateLimiter limiter(spec_of("1/h"), 10'000);
  // Exhaust two keys; "busy" keeps being used, "idle" is not touched again.
  REQUIRE(limiter.check("busy", t0).allowed);
  REQUIRE(limiter.check("idle", t0).allowed);
  REQUIRE_FALSE(limiter.check("busy", t0).allowed);
  REQUIRE_FALSE(limiter.check("idle", t0).allowed);

  for (int i = 0; i < 200'000; ++i) {
    (void)limiter.check("client-" + std::to_string(i), t0);
    if (i % 100 == 0) {
      INFO("after " << i << " other keys");
      // Still refused: its empty bucket was kept because it was recently used.
      REQUIRE_FALSE(limiter.check("busy", t0).allowed);
    }
  }
  CHECK(limiter.size() <= 10'000);
  CHECK_FALSE(limiter.check("busy", t0).allowed);
  // "idle" was evicted long ago, so it comes back with a full bucket.
  CHECK(limiter.check("idle", t0).allowed);
}

TEST_CASE("limiter: the key bound holds for max_keys below the shard count", "[common][limiter]") {
  // BUG: RateLimiter keeps max(1, max_keys / 16) buckets in each of its 16 shards, so for
  // max_keys < 16 it keeps up to 16 buckets (and in general up to 16 * max(1, max_keys / 16)).
  RateLimiter limiter(spec_of("5/s"), 4);
  for (int i = 0; i < 1000; ++i) (void)limiter.check("k" + std::to_string(i), t0);
  CHECK(limiter.size() <= 4);
}

TEST_CASE("limiter: every spec that parses admits a first request", "[common][limiter]") {
  // BUG: LimitSpec::parse accepts a bucket capacity below one token ("0.5/s" has burst 0.5,
  // "5/s:0.5" too), and TokenBucket::take needs a whole token, so such a limiter refuses every
  // request forever. Either parse should reject burst < 1 or the capacity should be at least 1.
  for (const char* text : {"0.5/s", "5/s:0.5", "0.2"}) {
    INFO(text);
    auto spec = LimitSpec::parse(text);
    if (!spec) continue;  // rejecting is fine too
    RateLimiter limiter(*spec);
    CHECK(limiter.check("k", t0).allowed);
    CHECK(limiter.check("other", t0 + 1h).allowed);
  }
}
