#include "common/clock.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono;
using Tp = system_clock::time_point;

constexpr std::int64_t k20260131 = 1769860800;  // 2026-01-31T12:00:00Z

Tp at_millis(std::int64_t ms) { return Tp(duration_cast<system_clock::duration>(milliseconds(ms))); }

// True when text has the shape of pattern, where 'd' stands for any digit.
bool shaped(const std::string& text, const std::string& pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (pattern[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != pattern[i]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("clock: rfc3339 formats UTC with whole seconds or millis", "[common][clock]") {
  CHECK(common::rfc3339(Tp(seconds(k20260131))) == "2026-01-31T12:00:00Z");
  CHECK(common::rfc3339(Tp(seconds(0))) == "1970-01-01T00:00:00Z");
  CHECK(common::rfc3339(at_millis(k20260131 * 1000 + 123), true) == "2026-01-31T12:00:00.123Z");
  CHECK(common::rfc3339(at_millis(k20260131 * 1000 + 7), true) == "2026-01-31T12:00:00.007Z");
  CHECK(common::rfc3339(at_millis(k20260131 * 1000 + 999)) == "2026-01-31T12:00:00Z");  // truncated, not rounded
  CHECK(common::rfc3339(Tp(seconds(k20260131)), true) == "2026-01-31T12:00:00.000Z");
  // Leap day and year end.
  CHECK(common::rfc3339_from_unix(951782400) == "2000-02-29T00:00:00Z");
  CHECK(common::rfc3339_from_unix(1767225599) == "2025-12-31T23:59:59Z");
  CHECK(common::rfc3339_from_unix(k20260131) == "2026-01-31T12:00:00Z");
}

TEST_CASE("clock: rfc3339 before the epoch rounds toward the past", "[common][clock]") {
  CHECK(common::rfc3339(at_millis(-1), true) == "1969-12-31T23:59:59.999Z");
  CHECK(common::rfc3339(at_millis(-1000), true) == "1969-12-31T23:59:59.000Z");
  CHECK(common::rfc3339(at_millis(-1500)) == "1969-12-31T23:59:58Z");
  CHECK(common::rfc3339_from_unix(-86400) == "1969-12-31T00:00:00Z");
}

TEST_CASE("clock: now helpers agree with each other", "[common][clock]") {
  auto s = common::unix_seconds();
  auto ms = common::unix_millis();
  CHECK(s > 1'700'000'000);
  CHECK(ms / 1000 >= s);
  CHECK(ms / 1000 <= s + 2);
  CHECK(shaped(common::rfc3339_now(), "dddd-dd-ddTdd:dd:ddZ"));
  CHECK(shaped(common::rfc3339_now(true), "dddd-dd-ddTdd:dd:dd.dddZ"));
  CHECK_FALSE(shaped("2026-01-31T12:00:00", "dddd-dd-ddTdd:dd:ddZ"));
  auto parsed = common::parse_rfc3339(common::rfc3339_now());
  REQUIRE(parsed);
  CHECK(*parsed >= s);
  CHECK(*parsed <= s + 2);
}

TEST_CASE("clock: parse_rfc3339 with Z, offsets and fractions", "[common][clock]") {
  struct Case {
    const char* text;
    std::int64_t expected;
  };
  for (auto c : {Case{"2026-01-31T12:00:00Z", k20260131}, Case{"2026-01-31t12:00:00z", k20260131},
                 Case{"2026-01-31 12:00:00Z", k20260131}, Case{"2026-01-31T12:00:00+00:00", k20260131},
                 Case{"2026-01-31T12:00:00-00:00", k20260131}, Case{"2026-01-31T14:00:00+02:00", k20260131},
                 Case{"2026-01-31T07:00:00-05:00", k20260131}, Case{"2026-01-31T17:45:00+05:45", k20260131},
                 Case{"2026-02-01T01:00:00+13:00", k20260131}, Case{"2026-01-31T12:00:00.5Z", k20260131},
                 Case{"2026-01-31T12:00:00.123456789Z", k20260131}, Case{"2026-01-31T13:30:00.999+01:30", k20260131},
                 Case{"1970-01-01T00:00:00Z", 0}, Case{"1969-12-31T23:59:59Z", -1},
                 Case{"2000-02-29T00:00:00Z", 951782400}, Case{"2016-12-31T23:59:60Z", 1483228800}}) {
    INFO(c.text);
    auto v = common::parse_rfc3339(c.text);
    REQUIRE(v.has_value());
    CHECK(*v == c.expected);
  }
}

TEST_CASE("clock: parse_rfc3339 round-trips rfc3339", "[common][clock]") {
  for (std::int64_t s : {std::int64_t{0}, std::int64_t{951782400}, k20260131, std::int64_t{4102444799}}) {
    INFO(s);
    CHECK(common::parse_rfc3339(common::rfc3339_from_unix(s)) == std::optional<std::int64_t>(s));
    CHECK(common::parse_rfc3339(common::rfc3339(Tp(seconds(s)), true)) == std::optional<std::int64_t>(s));
  }
}

TEST_CASE("clock: parse_rfc3339 rejects invalid input", "[common][clock]") {
  for (const char* bad : {
           "",
           "2026",
           "2026-01-31",
           "2026-01-31T12:00",
           "2026-01-31T12:00:00",      // no zone
           "2026-01-31T12:00:00.Z",    // empty fraction
           "2026-01-31T12:00:00.123",  // fraction, no zone
           "2026-01-31T12:00:00ZZ",
           "2026-01-31T12:00:00Z ",
           " 2026-01-31T12:00:00Z",
           "2026-01-31T12:00:00+02",
           "2026-01-31T12:00:00+0200",
           "2026-01-31T12:00:00+02:0",
           "2026-01-31T12:00:00+24:00",
           "2026-01-31T12:00:00+02:60",
           "2026-01-31T12:00:00+02:00x",
           "2026-01-31T12:00:00 +02:00",
           "2026/01/31T12:00:00Z",
           "2026-01-31X12:00:00Z",
           "2026-01-31T12-00-00Z",
           "26-01-31T12:00:00Z",
           "2026-1-31T12:00:00Z",
           "2026-00-10T12:00:00Z",
           "2026-13-10T12:00:00Z",
           "2026-01-00T12:00:00Z",
           "2026-01-32T12:00:00Z",
           "2026-02-29T12:00:00Z",  // not a leap year
           "2026-04-31T12:00:00Z",
           "2026-01-31T24:00:00Z",
           "2026-01-31T12:60:00Z",
           "2026-01-31T12:00:61Z",
           "2026-01-31T1a:00:00Z",
           "+026-01-31T12:00:00Z",
           "2026-01-31T12:00:00.12a4Z",
       }) {
    INFO("'" << bad << "'");
    CHECK_FALSE(common::parse_rfc3339(bad).has_value());
  }
}
