#include "store/ordered_id.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

TEST_CASE("ordered_id: prefix, hex digits, strictly increasing across threads", "[store][ordered_id]") {
  for (std::size_t digits : {12u, 16u}) {
    const std::string first = store::ordered_id("x_", digits);
    CHECK(std::regex_match(first, std::regex("x_[0-9a-f]{" + std::to_string(digits) + "}")));
    std::vector<std::vector<std::string>> drawn(4);
    std::vector<std::thread> threads;
    for (auto& ids : drawn)
      threads.emplace_back([&ids, digits] {
        for (int i = 0; i < 20000; ++i) ids.push_back(store::ordered_id("x_", digits));
      });
    for (auto& t : threads) t.join();
    std::vector<std::string> all;
    for (const auto& ids : drawn) {
      for (std::size_t i = 1; i < ids.size(); ++i) REQUIRE(ids[i - 1] < ids[i]);  // per thread, in order
      all.insert(all.end(), ids.begin(), ids.end());
      CHECK(ids.front() > first);
    }
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // no id twice
  }
  CHECK_THROWS_AS(store::ordered_id("x_", 8), std::invalid_argument);
}
