#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/input.hpp"

namespace {

namespace input = common::input;

common::Request with_query(std::string query) {
  common::Request req;
  req.method = "GET";
  req.path = "/api/items";
  req.query = std::move(query);
  req.target = req.path + "?" + req.query;
  return req;
}

// The message of the 400 that `call` throws.
template <class F>
std::string rejection(F&& call) {
  try {
    call();
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 400);
    return e.what();
  }
  FAIL("no ApiError was thrown");
  return {};
}

}  // namespace

TEST_CASE("input: query_integer reads bounded whole numbers", "[common][input]") {
  CHECK(input::query_integer(with_query("n=42"), "n", 0, 100) == 42);
  CHECK(input::query_integer(with_query("n=-3"), "n", -5, 5) == -3);
  CHECK_FALSE(input::query_integer(with_query("m=1"), "n", 0, 100).has_value());
  for (const char* bad : {"n=", "n=abc", "n=12x", "n=1.5", "n=101", "n=-1", "n=99999999999999999999"}) {
    auto message = rejection([&] { input::query_integer(with_query(bad), "n", 0, 100); });
    CHECK(message.find("'n'") != std::string::npos);
    CHECK(message.find("between 0 and 100") != std::string::npos);
  }
}

TEST_CASE("input: query_one_of takes a shared constant list or a braced list", "[common][input]") {
  static constexpr std::array<std::string_view, 3> kColours{"red", "green", "blue"};
  CHECK(input::query_one_of(with_query("c=green"), "c", kColours) == "green");
  CHECK(input::query_one_of(with_query("c=blue"), "c", {"red", "blue"}) == "blue");
  CHECK_FALSE(input::query_one_of(with_query(""), "c", kColours).has_value());
  auto message = rejection([] { input::query_one_of(with_query("c=pink"), "c", kColours); });
  CHECK(message.find("'c' must be one of: red, green, blue") != std::string::npos);
}

TEST_CASE("input: query_text is single-line text of bounded length", "[common][input]") {
  CHECK(input::query_text(with_query("q=hello%20world"), "q", 20) == "hello world");
  CHECK_FALSE(input::query_text(with_query("x=1"), "q", 20).has_value());
  CHECK(rejection([] { input::query_text(with_query("q="), "q", 20); }).find("q") != std::string::npos);
  CHECK(rejection([] { input::query_text(with_query("q=abcdef"), "q", 5); }).find("q") != std::string::npos);
  CHECK(rejection([] { input::query_text(with_query("q=a%0Ab"), "q", 5); }).find("q") != std::string::npos);
}

TEST_CASE("input: query_timestamp_text gives the canonical UTC form", "[common][input]") {
  CHECK(input::query_timestamp_text(with_query("since=2026-01-31T13:00:00%2B01:00"), "since") ==
        "2026-01-31T12:00:00Z");
  CHECK(input::query_timestamp(with_query("since=2026-01-31T12:00:00Z"), "since").has_value());
  CHECK_FALSE(input::query_timestamp_text(with_query(""), "since").has_value());
  auto message = rejection([] { input::query_timestamp_text(with_query("since=yesterday"), "since"); });
  CHECK(message.find("'since' must be an RFC 3339 timestamp") != std::string::npos);
}
