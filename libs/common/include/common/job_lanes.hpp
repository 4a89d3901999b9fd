#pragma once
// Background jobs that run on a schedule, each on its own lane (thread), so a slow job (a
// backup, a purge) never delays another (SSE keep-alives, mail retries). A job never
// overlaps itself: its next run is one interval after the previous one finished.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.hpp"

namespace common {

class JobLanes {
 public:
  // With a registry, each job reports <prefix>_job_runs_total, _job_failures_total and
  // _job_last_duration_seconds labelled by job name.
  explicit JobLanes(metrics::Registry* registry = nullptr, std::string metrics_prefix = {});
  ~JobLanes();  // stops and joins
  JobLanes(const JobLanes&) = delete;
  JobLanes& operator=(const JobLanes&) = delete;

  // Adds a job before start(); its first run is one interval after start. A throwing run
  // is logged and counted as a failure; the schedule goes on.
  void add(std::string name, std::chrono::milliseconds interval, std::function<void()> job);
  void start();
  // Wakes every lane and waits for running jobs to return.
  void stop();

  struct Stats {
    std::uint64_t runs = 0;      // finished runs, failed ones included
    std::uint64_t failures = 0;  // runs that threw
    double last_duration_s = 0;  // of the last finished run
  };
  // Zero stats for an unknown name.
  Stats stats(const std::string& name) const;
  std::size_t size() const;

  struct Lane;

 private:
  metrics::Registry* registry_;
  std::string prefix_;
  metrics::Family<metrics::Counter>* runs_family_ = nullptr;
  metrics::Family<metrics::Counter>* failures_family_ = nullptr;
  metrics::Family<metrics::Gauge>* duration_family_ = nullptr;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace common
