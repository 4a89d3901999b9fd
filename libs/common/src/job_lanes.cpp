#include "common/job_lanes.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log.hpp"

namespace common {

struct JobLanes::Lane {
  std::string name;
  std::chrono::milliseconds interval;
  std::function<void()> job;
  metrics::Counter* runs_metric = nullptr;
  metrics::Counter* failures_metric = nullptr;
  metrics::Gauge* duration_metric = nullptr;

  std::atomic<std::uint64_t> runs{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<double> last_duration{0};
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  void run_once() {
    using clock = std::chrono::steady_clock;
    auto begin = clock::now();
    bool failed = false;
    try {
      job();
    } catch (const std::exception& e) {
      failed = true;
      log::error("job failed", {{"job", name}, {"error", e.what()}});
    }
    double seconds = std::chrono::duration<double>(clock::now() - begin).count();
    last_duration.store(seconds);
    if (failed) ++failures;
    ++runs;
    if (runs_metric) runs_metric->inc();
    if (failed && failures_metric) failures_metric->inc();
    if (duration_metric) duration_metric->set(seconds);
    log::debug("job finished", {{"job", name}, {"duration_ms", static_cast<long long>(seconds * 1000)}});
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, interval, [this] { return stopping; })) {
      lock.unlock();
      run_once();
      lock.lock();
    }
  }
};

JobLanes::JobLanes(metrics::Registry* registry, std::string metrics_prefix)
    : registry_(registry), prefix_(std::move(metrics_prefix)) {}

JobLanes::~JobLanes() { stop(); }

void JobLanes::add(std::string name, std::chrono::milliseconds interval, std::function<void()> job) {
  auto lane = std::make_unique<Lane>();
  lane->name = std::move(name);
  lane->interval = std::max(interval, std::chrono::milliseconds(1));
  lane->job = std::move(job);
  if (registry_) {
    if (!runs_family_) {  // one family per metric, shared by the lanes
      runs_family_ = &registry_->counter(prefix_ + "_job_runs_total", "Finished runs of each background job", {"job"});
      failures_family_ =
          &registry_->counter(prefix_ + "_job_failures_total", "Failed runs of each background job", {"job"});
      duration_family_ =
          &registry_->gauge(prefix_ + "_job_last_duration_seconds", "Duration of each job's last run", {"job"});
    }
    lane->runs_metric = &runs_family_->with({lane->name});
    lane->failures_metric = &failures_family_->with({lane->name});
    lane->duration_metric = &duration_family_->with({lane->name});
  }
  lanes_.push_back(std::move(lane));
}

void JobLanes::start() {
  for (auto& lane : lanes_)
    if (!lane->thread.joinable()) lane->thread = std::thread([l = lane.get()] { l->loop(); });
}

void JobLanes::stop() {
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mutex);
    lane->stopping = true;
  }
  for (auto& lane : lanes_) lane->wake.notify_all();
  for (auto& lane : lanes_)
    if (lane->thread.joinable()) lane->thread.join();
}

JobLanes::Stats JobLanes::stats(const std::string& name) const {
  for (const auto& lane : lanes_)
    if (lane->name == name) return {lane->runs.load(), lane->failures.load(), lane->last_duration.load()};
  return {};
}

std::size_t JobLanes::size() const { return lanes_.size(); }

}  // namespace common
