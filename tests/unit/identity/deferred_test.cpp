#include "identity/deferred.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

TEST_CASE("deferred jobs run in order, survive a failing one, and finish before destruction") {
  std::vector<int> ran;
  std::atomic<bool> release{false};
  {
    identity::Deferred deferred("test");
    // The first job holds the worker until every other one is queued.
    deferred.post([&] {
      while (!release.load()) std::this_thread::yield();
      ran.push_back(1);
    });
    deferred.post([] { throw std::runtime_error("a failing job is logged, not fatal"); });
    for (int i = 2; i <= 5; ++i) deferred.post([&ran, i] { ran.push_back(i); });
    release = true;
  }  // the destructor waits for the queue
  CHECK(ran == std::vector<int>{1, 2, 3, 4, 5});
}
