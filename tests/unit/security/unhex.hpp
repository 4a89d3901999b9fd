#pragma once
// Test helper: bytes from a hex test vector; fails the test on malformed hex.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "security/encoding.hpp"

inline std::string unhex(std::string_view hex) {
  auto bytes = security::hex_decode(hex);
  REQUIRE(bytes);
  return *bytes;
}
