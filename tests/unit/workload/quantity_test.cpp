#include <catch2/catch.hpp>

#include "workload/quantity.hpp"

using namespace workload;
using namespace std::chrono_literals;

TEST_CASE("byte quantities use binary and decimal suffixes") {
  CHECK(parse_bytes("512Mi") == 512LL * 1024 * 1024);
  CHECK(parse_bytes("2Gi") == 2LL << 30);
  CHECK(parse_bytes("1.5Gi") == 3LL << 29);
  CHECK(parse_bytes("1G") == 1000000000LL);
  CHECK(parse_bytes("100k") == 100000);
  CHECK(parse_bytes("123") == 123);
  CHECK_FALSE(parse_bytes("12 apples"));
  CHECK_FALSE(parse_bytes("Mi"));
  CHECK_FALSE(parse_bytes("-1Mi"));
  CHECK_FALSE(parse_bytes("1.Gi"));
  CHECK_FALSE(parse_bytes("99999999999Ti"));  // beyond int64
}

TEST_CASE("cpu quantities are millicores") {
  CHECK(parse_millicores("0.5") == 500);
  CHECK(parse_millicores("2") == 2000);
  CHECK(parse_millicores("250m") == 250);
  CHECK_FALSE(parse_millicores("0"));
  CHECK_FALSE(parse_millicores("0m"));
  CHECK_FALSE(parse_millicores("two"));
}

TEST_CASE("durations are sequences of number and unit") {
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("10m") == 10min);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("2d") == 48h);
  CHECK_FALSE(parse_duration("soon"));
  CHECK_FALSE(parse_duration("30"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("5m "));
}

TEST_CASE("formatting is exact and reads back") {
  CHECK(format_bytes(512LL << 20) == "512Mi");
  CHECK(format_bytes(2LL << 30) == "2Gi");
  CHECK(format_bytes(1000) == "1000");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(1500ms) == "1s500ms");
  CHECK(format_duration(0ms) == "0s");
  for (Duration d : std::initializer_list<Duration>{1ms, 30s, 5min, 3h + 1ms, 61s})
    CHECK(parse_duration(format_duration(d)) == d);
}
