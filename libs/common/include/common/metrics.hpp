#pragma once
// Prometheus metrics: counters, gauges and histograms with labels, text format 0.0.4.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace common::metrics {

using Labels = std::vector<std::string>;  // values, in the order of the family's label names

class Counter {
 public:
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0);
  void dec(double by = 1.0) { inc(-by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);
  // Cumulative counts per bound (the +Inf bucket is count()).
  std::vector<std::uint64_t> cumulative() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Default latency buckets in seconds (0.5 ms .. 10 s).
const std::vector<double>& latency_buckets();

template <class M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The child for these label values, created on first use; references stay valid.
  M& with(const Labels& values);
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  template <class F>
  void each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, child] : children_) f(labels, *child);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<M>> children_;
};

template <class M>
M& Family<M>::with(const Labels& values) {
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, make_()).first;
  return *it->second;
}

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels = {},
                               std::vector<double> bounds = latency_buckets());
  // A gauge read at scrape time (e.g. rows in a table, open connections).
  void gauge_callback(std::string name, std::string help, std::function<double()> read);
  // The whole registry in the Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  struct Callback {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<Callback> callbacks_;
};

// Label value escaping of the text format (backslash, double quote, newline).
std::string escape_label(std::string_view value);

}  // namespace common::metrics
