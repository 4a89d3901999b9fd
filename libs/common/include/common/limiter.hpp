#pragma once
// Token-bucket rate limiting with bounded memory, keyed per client (IP, API key or user).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace common {

// A limit: `quota` requests per `period`, bucket capacity `burst` (defaults to quota).
struct LimitSpec {
  double quota = 0;
  std::chrono::duration<double> period{60};
  double burst = 0;

  double rate_per_second() const { return quota / period.count(); }
  // Parses "N", "N/s", "N/min", "N/h", each with an optional ":B" burst; nullopt when invalid
  // (including a burst below 1, which could never admit a request).
  static std::optional<LimitSpec> parse(std::string_view text);
  std::string to_string() const;
};

struct LimitDecision {
  bool allowed = true;
  std::int64_t limit = 0;        // X-RateLimit-Limit
  std::int64_t remaining = 0;    // X-RateLimit-Remaining (whole tokens left)
  std::int64_t reset_unix = 0;   // X-RateLimit-Reset: when the bucket is full again
  std::int64_t retry_after = 0;  // Retry-After seconds when refused (>= 1)
};

// One bucket's arithmetic, separate from storage so it can be tested with a fake clock.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double capacity, Clock::time_point now) : tokens_(capacity), updated_(now) {}
  // Refills for the elapsed time, then takes one token if there is one.
  bool take(const LimitSpec& spec, Clock::time_point now);
  double tokens() const { return tokens_; }
  // Seconds until one token is available (0 when one is).
  double seconds_until_token(const LimitSpec& spec) const;
  double seconds_until_full(const LimitSpec& spec) const;

 private:
  void refill(const LimitSpec& spec, Clock::time_point now);
  double tokens_;
  Clock::time_point updated_;
};

// Buckets per key for one limit. Memory is bounded: at most `max_keys` buckets, least
// recently used evicted first (an evicted key starts again with a full bucket).
class RateLimiter {
 public:
  RateLimiter(LimitSpec spec, std::size_t max_keys = 100000);
  LimitDecision check(std::string_view key) { return check(key, TokenBucket::Clock::now()); }
  LimitDecision check(std::string_view key, TokenBucket::Clock::time_point now);
  const LimitSpec& spec() const { return spec_; }
  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    TokenBucket bucket;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
  };
  static constexpr std::size_t kMaxShards = 16;
  LimitSpec spec_;
  std::size_t shard_count_;  // fewer shards than keys, so the bound is exact
  std::size_t max_per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace common
