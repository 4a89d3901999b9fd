// The response JSON writer: plain shortest decimals, integers as integers, strings escaped.
#include "common/json_writer.hpp"

#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <random>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

using common::write_json;
namespace json = boost::json;

TEST_CASE("json writer: the numbers issue 14 reported come out plain", "[common][json]") {
  CHECK(write_json(12.5) == "12.5");              // boost: 1.25E1
  CHECK(write_json(0.5) == "0.5");                // boost: 5E-1
  CHECK(write_json(304021504.0) == "304021504");  // boost: 3.04021504E8
  CHECK(write_json(json::object{{"cpuUsage", 12.5}, {"share", 0.5}}) == R"({"cpuUsage":12.5,"share":0.5})");
}

TEST_CASE("json writer: shortest round-trip digits, never an exponent", "[common][json]") {
  CHECK(write_json(0.1) == "0.1");
  CHECK(write_json(1.0 / 3) == "0.3333333333333333");
  CHECK(write_json(-2.75) == "-2.75");
  CHECK(write_json(1e21) == "1000000000000000000000");
  CHECK(write_json(1.5e-7) == "0.00000015");
  CHECK(write_json(-0.0) == "0");
  CHECK(write_json(100.0) == "100");
  CHECK(write_json(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(write_json(std::numeric_limits<double>::infinity()) == "null");
  auto big = write_json(std::numeric_limits<double>::max());
  CHECK(big.size() == 309);
  CHECK(big.find_first_of("eE.") == std::string::npos);
  auto tiny = write_json(std::numeric_limits<double>::denorm_min());
  CHECK(tiny.starts_with("0.000"));
  CHECK(tiny.find_first_of("eE") == std::string::npos);
}

TEST_CASE("json writer: every double reads back exactly", "[common][json]") {
  std::mt19937_64 rng(14);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 5000; ++i) {
    double d = std::ldexp(unit(rng), exponent(rng) * 3);
    auto text = write_json(d);
    INFO(text);
    CHECK(text.find_first_of("eE") == std::string::npos);
    // std::from_chars reads correctly rounded (boost::json::parse in 1.81 is not always exact).
    double back = 0;
    std::from_chars(text.data(), text.data() + text.size(), back);
    CHECK(back == d);
  }
}

TEST_CASE("json writer: integers, strings and structure match boost::json", "[common][json]") {
  json::value v =
      json::parse(R"({"a":[1,-2,18446744073709551615,-9223372036854775808,true,false,null],)"
                  R"("s":"quote \" backslash \\ tab \t nl \n cr \r bell \u0007 del \u007f é ✓","e":{},"z":[]})");
  CHECK(write_json(v) == json::serialize(v));
  // Control characters are escaped; UTF-8 passes through.
  CHECK(write_json(json::string("\x01\x1f")) == R"("\u0001\u001f")");
  CHECK(write_json(json::string("é")) == "\"é\"");
}
