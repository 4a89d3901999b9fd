// IoC ids: the documented form, and increasing so that new rows append to the id index.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "iocs.hpp"

TEST_CASE("IoC ids are ioc_ and 16 hex digits, strictly increasing within a process") {
  std::string previous = tc::new_ioc_id();
  for (int i = 0; i < 10000; ++i) {
    std::string id = tc::new_ioc_id();
    REQUIRE(id.size() == 20);
    REQUIRE(id.starts_with("ioc_"));
    REQUIRE(
        std::all_of(id.begin() + 4, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
    REQUIRE(id > previous);
    previous = id;
  }
}
