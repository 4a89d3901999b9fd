#include "common/metrics.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

namespace m = common::metrics;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("metrics: counter with labels renders HELP, TYPE and one line per child", "[common][metrics]") {
  m::Registry registry;
  auto& requests = registry.counter("http_requests_total", "HTTP requests served.", {"method", "status"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"POST", "201"}).inc(0.5);
  requests.with({"POST", "201"}).inc(-10);  // counters never go down
  CHECK(requests.with({"GET", "200"}).value() == 3);
  CHECK(requests.with({"POST", "201"}).value() == 0.5);

  CHECK(registry.render() ==
        "# HELP http_requests_total HTTP requests served.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"GET\",status=\"200\"} 3\n"
        "http_requests_total{method=\"POST\",status=\"201\"} 0.5\n");
}

TEST_CASE("metrics: unlabelled counter and gauge, and a family with no children", "[common][metrics]") {
  m::Registry registry;
  registry.counter("jobs_total", "Jobs.").with({}).inc(7);
  auto& conns = registry.gauge("open_connections", "Open connections.").with({});
  conns.set(10);
  conns.inc();
  conns.dec(3);
  CHECK(conns.value() == 8);
  registry.gauge("temperature", "Temp.").with({}).set(-2.25);
  registry.counter("unused_total", "Nothing yet.", {"kind"});

  const std::string text = registry.render();
  CHECK(text ==
        "# HELP jobs_total Jobs.\n"
        "# TYPE jobs_total counter\n"
        "jobs_total 7\n"
        "# HELP unused_total Nothing yet.\n"
        "# TYPE unused_total counter\n"
        "# HELP open_connections Open connections.\n"
        "# TYPE open_connections gauge\n"
        "open_connections 8\n"
        "# HELP temperature Temp.\n"
        "# TYPE temperature gauge\n"
        "temperature -2.25\n");
}

TEST_CASE("metrics: gauge callbacks are read at render time", "[common][metrics]") {
  m::Registry registry;
  double rows = 1;
  registry.gauge_callback("db_rows", "Rows in the table.", [&] { return rows; });
  CHECK(registry.render() == "# HELP db_rows Rows in the table.\n# TYPE db_rows gauge\ndb_rows 1\n");
  rows = 42;
  CHECK_THAT(registry.render(), Catch::EndsWith("db_rows 42\n"));
}

TEST_CASE("metrics: label values are escaped", "[common][metrics]") {
  CHECK(m::escape_label("plain") == "plain");
  CHECK(m::escape_label("a\"b") == "a\\\"b");
  CHECK(m::escape_label("back\\slash") == "back\\\\slash");
  CHECK(m::escape_label("two\nlines") == "two\\nlines");
  CHECK(m::escape_label("") == "");

  m::Registry registry;
  registry.counter("odd_total", "Odd labels.", {"path"}).with({"/a\"b\\c\nd"}).inc();
  CHECK_THAT(registry.render(), Catch::Contains("odd_total{path=\"/a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST_CASE("metrics: HELP text escapes backslash and newline", "[common][metrics]") {
  m::Registry registry;
  registry.counter("x_total", "first line\nsecond \\ line").with({}).inc();
  auto lines = lines_of(registry.render());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "# HELP x_total first line\\nsecond \\\\ line");
}

TEST_CASE("metrics: histogram buckets are cumulative with +Inf, _sum and _count", "[common][metrics]") {
  m::Registry registry;
  auto& family = registry.histogram("request_seconds", "Request latency.", {"route"}, {0.5, 1, 2.5});
  auto& h = family.with({"/api/x"});
  for (double v : {0.25, 0.5, 0.75, 4.0, 0.125}) h.observe(v);

  CHECK(h.count() == 5);
  CHECK(h.sum() == Approx(5.625));
  CHECK(h.cumulative() == std::vector<std::uint64_t>{3, 4, 4});

  CHECK(registry.render() ==
        "# HELP request_seconds Request latency.\n"
        "# TYPE request_seconds histogram\n"
        "request_seconds_bucket{route=\"/api/x\",le=\"0.5\"} 3\n"
        "request_seconds_bucket{route=\"/api/x\",le=\"1\"} 4\n"
        "request_seconds_bucket{route=\"/api/x\",le=\"2.5\"} 4\n"
        "request_seconds_bucket{route=\"/api/x\",le=\"+Inf\"} 5\n"
        "request_seconds_sum{route=\"/api/x\"} 5.625\n"
        "request_seconds_count{route=\"/api/x\"} 5\n");
}

TEST_CASE("metrics: unlabelled histogram with default latency buckets", "[common][metrics]") {
  const auto& bounds = m::latency_buckets();
  REQUIRE(bounds.size() >= 2);
  CHECK(bounds.front() == Approx(0.0005));
  CHECK(bounds.back() == Approx(10));
  for (std::size_t i = 1; i < bounds.size(); ++i) CHECK(bounds[i - 1] < bounds[i]);

  m::Registry registry;
  auto& h = registry.histogram("latency_seconds", "Latency.").with({});
  h.observe(0.25);
  h.observe(20);  // beyond every bound: only +Inf

  auto lines = lines_of(registry.render());
  // HELP, TYPE, one line per bound, +Inf, _sum, _count.
  REQUIRE(lines.size() == 2 + bounds.size() + 3);
  CHECK(lines[2] == "latency_seconds_bucket{le=\"0.0005\"} 0");
  CHECK(lines[2 + bounds.size() - 1] == "latency_seconds_bucket{le=\"10\"} 1");
  CHECK(lines[2 + bounds.size()] == "latency_seconds_bucket{le=\"+Inf\"} 2");
  CHECK(lines[3 + bounds.size()] == "latency_seconds_sum 20.25");
  CHECK(lines[4 + bounds.size()] == "latency_seconds_count 2");

  // Counts never decrease from one bucket to the next.
  auto counts = h.cumulative();
  for (std::size_t i = 1; i < counts.size(); ++i) CHECK(counts[i - 1] <= counts[i]);
  CHECK(counts.back() <= h.count());
}

TEST_CASE("metrics: families render in a stable order: counters, gauges, callbacks, histograms", "[common][metrics]") {
  m::Registry registry;
  registry.histogram("h_seconds", "H.", {}, {1}).with({}).observe(1);
  registry.gauge_callback("cb", "Callback.", [] { return 1.0; });
  registry.gauge("g", "G.").with({}).set(1);
  registry.counter("c_total", "C.").with({}).inc();
  std::vector<std::string> types;
  for (const auto& line : lines_of(registry.render()))
    if (line.rfind("# TYPE ", 0) == 0) types.push_back(line);
  CHECK(types == std::vector<std::string>{"# TYPE c_total counter", "# TYPE g gauge", "# TYPE cb gauge",
                                          "# TYPE h_seconds histogram"});
}
