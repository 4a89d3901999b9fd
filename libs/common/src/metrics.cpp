#include "common/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace common::metrics {

namespace {

void atomic_add(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::string label_set(const std::vector<std::string>& names, const Labels& values, const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + escape_label(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + escape_help(help) + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Counter::inc(double by) {
  if (by < 0) return;  // counters only go up
  atomic_add(value_, by);
}

void Gauge::inc(double by) { atomic_add(value_, by); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size()]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size());
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  counters_.push_back(std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels),
                                                        [] { return std::make_unique<Counter>(); }));
  return *counters_.back();
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  gauges_.push_back(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels),
                                                    [] { return std::make_unique<Gauge>(); }));
  return *gauges_.back();
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), std::move(labels),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); }));
  return *histograms_.back();
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  callbacks_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& f : counters_) {
    header(out, f->name(), f->help(), "counter");
    f->each([&](const Labels& labels, const Counter& c) {
      out += f->name() + label_set(f->label_names(), labels) + " " + number(c.value()) + "\n";
    });
  }
  for (const auto& f : gauges_) {
    header(out, f->name(), f->help(), "gauge");
    f->each([&](const Labels& labels, const Gauge& g) {
      out += f->name() + label_set(f->label_names(), labels) + " " + number(g.value()) + "\n";
    });
  }
  for (const auto& cb : callbacks_) {
    header(out, cb.name, cb.help, "gauge");
    out += cb.name + " " + number(cb.read()) + "\n";
  }
  for (const auto& f : histograms_) {
    header(out, f->name(), f->help(), "histogram");
    f->each([&](const Labels& labels, const Histogram& h) {
      auto counts = h.cumulative();
      // Read count after the buckets so +Inf never shows fewer than the last bucket.
      std::uint64_t total = std::max(h.count(), counts.empty() ? std::uint64_t{0} : counts.back());
      for (std::size_t i = 0; i < counts.size(); ++i) {
        out += f->name() + "_bucket" + label_set(f->label_names(), labels, "le=\"" + number(h.bounds()[i]) + "\"") +
               " " + std::to_string(counts[i]) + "\n";
      }
      out += f->name() + "_bucket" + label_set(f->label_names(), labels, "le=\"+Inf\"") + " " + std::to_string(total) +
             "\n";
      out += f->name() + "_sum" + label_set(f->label_names(), labels) + " " + number(h.sum()) + "\n";
      out += f->name() + "_count" + label_set(f->label_names(), labels) + " " + std::to_string(total) + "\n";
    });
  }
  return out;
}

}  // namespace common::metrics
