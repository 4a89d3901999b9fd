#include "common/job_lanes.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace {

// Waits (bounded) until `done` holds; false if it never did.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace

TEST_CASE("job lanes: a job that blocks does not delay the others", "[common][jobs]") {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> slow_started{0};
  std::atomic<int> fast_runs{0};

  common::JobLanes lanes;
  lanes.add("backup", std::chrono::milliseconds(1), [&] {
    ++slow_started;
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return release; });
  });
  lanes.add("keep-alive", std::chrono::milliseconds(1), [&] { ++fast_runs; });
  lanes.start();

  REQUIRE(eventually([&] { return slow_started.load() == 1; }));
  // While the slow job is still inside its first run, the other keeps its schedule.
  CHECK(eventually([&] { return fast_runs.load() >= 20; }));
  CHECK(slow_started.load() == 1);
  CHECK(lanes.stats("backup").runs == 0);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  CHECK(eventually([&] { return lanes.stats("backup").runs >= 1; }));
  lanes.stop();
  CHECK(lanes.stats("keep-alive").runs == static_cast<std::uint64_t>(fast_runs.load()));
}

TEST_CASE("job lanes: failures are counted and the schedule goes on", "[common][jobs]") {
  common::metrics::Registry registry;
  std::atomic<int> calls{0};
  common::JobLanes lanes(&registry, "svc");
  lanes.add("flaky", std::chrono::milliseconds(1), [&] {
    if (++calls % 2 == 1) throw std::runtime_error("boom");
  });
  lanes.add("steady", std::chrono::milliseconds(1), [] {});
  lanes.start();
  REQUIRE(eventually([&] { return lanes.stats("flaky").runs >= 4; }));
  lanes.stop();
  auto s = lanes.stats("flaky");
  CHECK(s.failures >= 2);
  CHECK(s.failures < s.runs);
  CHECK(s.last_duration_s >= 0);
  auto text = registry.render();
  CHECK(text.find("svc_job_runs_total{job=\"flaky\"}") != std::string::npos);
  CHECK(text.find("svc_job_failures_total{job=\"flaky\"}") != std::string::npos);
  CHECK(text.find("svc_job_last_duration_seconds{job=\"steady\"}") != std::string::npos);
  // One family per metric, whatever the number of jobs.
  CHECK(text.find("# TYPE svc_job_runs_total") == text.rfind("# TYPE svc_job_runs_total"));
  CHECK(lanes.stats("unknown").runs == 0);
}

TEST_CASE("job lanes: stop() wakes sleeping lanes at once", "[common][jobs]") {
  std::atomic<int> runs{0};
  common::JobLanes lanes;
  lanes.add("hourly", std::chrono::hours(1), [&] { ++runs; });
  lanes.start();
  lanes.stop();  // would hang for an hour if the lane only looked at the clock
  CHECK(runs.load() == 0);
  CHECK(lanes.size() == 1);
}
