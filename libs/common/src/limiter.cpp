#include "common/limiter.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace common {

std::optional<LimitSpec> LimitSpec::parse(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto number = [](std::string_view s) -> std::optional<double> {
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !(v > 0) || !std::isfinite(v))
      return std::nullopt;
    return v;
  };
  text = trim(text);
  LimitSpec spec;
  std::optional<double> burst;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    burst = number(trim(text.substr(colon + 1)));
    if (!burst) return std::nullopt;
    text = trim(text.substr(0, colon));
  }
  std::string_view unit = "min";
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    unit = trim(text.substr(slash + 1));
    text = trim(text.substr(0, slash));
  }
  auto quota = number(text);
  if (!quota) return std::nullopt;
  if (unit == "s" || unit == "sec" || unit == "second")
    spec.period = std::chrono::seconds(1);
  else if (unit == "min" || unit == "m" || unit == "minute")
    spec.period = std::chrono::seconds(60);
  else if (unit == "h" || unit == "hour")
    spec.period = std::chrono::seconds(3600);
  else
    return std::nullopt;
  spec.quota = *quota;
  spec.burst = burst.value_or(*quota);
  if (spec.burst < 1) return std::nullopt;  // a bucket that never holds one token admits nothing
  return spec;
}

std::string LimitSpec::to_string() const {
  const char* unit = period.count() <= 1 ? "s" : period.count() <= 60 ? "min" : "h";
  std::string out = fmt::format("{}/{}", quota, unit);
  if (burst != quota) out += fmt::format(":{}", burst);
  return out;
}

void TokenBucket::refill(const LimitSpec& spec, Clock::time_point now) {
  if (now > updated_) {
    double elapsed = std::chrono::duration<double>(now - updated_).count();
    tokens_ = std::min(spec.burst, tokens_ + elapsed * spec.rate_per_second());
    updated_ = now;
  }
}

bool TokenBucket::take(const LimitSpec& spec, Clock::time_point now) {
  refill(spec, now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

double TokenBucket::seconds_until_token(const LimitSpec& spec) const {
  return tokens_ >= 1.0 ? 0.0 : (1.0 - tokens_) / spec.rate_per_second();
}

double TokenBucket::seconds_until_full(const LimitSpec& spec) const {
  return std::max(0.0, (spec.burst - tokens_) / spec.rate_per_second());
}

RateLimiter::RateLimiter(LimitSpec spec, std::size_t max_keys)
    : spec_(spec),
      shard_count_(std::clamp<std::size_t>(max_keys, 1, kMaxShards)),
      max_per_shard_(std::max<std::size_t>(1, max_keys / shard_count_)),
      shards_(new Shard[shard_count_]) {}

LimitDecision RateLimiter::check(std::string_view key, TokenBucket::Clock::time_point now) {
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % shard_count_];
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  std::list<Entry>::iterator it;
  if (found == shard.index.end()) {
    if (shard.lru.size() >= max_per_shard_) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
    shard.lru.push_front(Entry{std::string(key), TokenBucket(spec_.burst, now)});
    it = shard.lru.begin();
    shard.index.emplace(it->key, it);
  } else {
    it = found->second;
    shard.lru.splice(shard.lru.begin(), shard.lru, it);
  }

  LimitDecision d;
  d.allowed = it->bucket.take(spec_, now);
  d.limit = static_cast<std::int64_t>(std::llround(spec_.burst));
  d.remaining = static_cast<std::int64_t>(std::floor(it->bucket.tokens()));
  auto wall = std::chrono::system_clock::now();
  auto full_in = std::chrono::duration<double>(it->bucket.seconds_until_full(spec_));
  d.reset_unix =
      std::chrono::duration_cast<std::chrono::seconds>(
          (wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(full_in)).time_since_epoch())
          .count() +
      (full_in.count() > 0 ? 1 : 0);
  if (!d.allowed)
    d.retry_after =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(it->bucket.seconds_until_token(spec_))));
  return d;
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].lru.size();
  }
  return n;
}

}  // namespace common
