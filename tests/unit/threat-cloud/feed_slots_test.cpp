// Feed slots: per client, the anonymous share, the share kept for API keys, and release.
#include <catch2/catch.hpp>

#include <vector>

#include "common/error.hpp"
#include "feeds.hpp"

namespace {

int refused_status(tc::FeedSlots& slots, const std::string& holder, bool keyed) {
  try {
    slots.acquire(holder, keyed);
  } catch (const common::ApiError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace

TEST_CASE("one client cannot take more than its share of the feed slots") {
  tc::FeedSlots slots({.total = 5, .per_client = 2, .keyed_reserve = 2});
  std::vector<tc::FeedSlots::Lease> held;
  held.push_back(slots.acquire("ip:198.51.100.1", false));
  held.push_back(slots.acquire("ip:198.51.100.1", false));
  CHECK(refused_status(slots, "ip:198.51.100.1", false) == 503);
  // another anonymous client takes the last anonymous slot (5 - 2 kept for keys = 3)
  held.push_back(slots.acquire("ip:198.51.100.2", false));
  CHECK(refused_status(slots, "ip:198.51.100.3", false) == 503);
  // the share kept for keys is still there, and each key has its own per-client cap
  held.push_back(slots.acquire("key:a", true));
  held.push_back(slots.acquire("key:b", true));
  CHECK(refused_status(slots, "key:c", true) == 503);  // the total is reached
  held.clear();
  CHECK(refused_status(slots, "ip:198.51.100.3", false) == 0);  // everything came back
}

TEST_CASE("a lease gives its slot back even when it outlives the slots object") {
  std::vector<tc::FeedSlots::Lease> held;
  {
    tc::FeedSlots slots({.total = 1, .per_client = 1, .keyed_reserve = 0});
    held.push_back(slots.acquire("key:a", true));
    CHECK(refused_status(slots, "key:b", true) == 503);
  }
  held.clear();  // no use after free: the lease shares the counters
  SUCCEED();
}
