#include "store/time.hpp"

#include <catch2/catch.hpp>
#include <regex>

TEST_CASE("now_rfc3339 is UTC with whole seconds and unix_now is current", "[store][time]") {
  const std::string now = store::now_rfc3339();
  CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")));
  CHECK(store::unix_now() > 1'700'000'000);  // after November 2023
}
