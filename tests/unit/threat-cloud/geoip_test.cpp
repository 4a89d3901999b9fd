#include "geoip.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace {

// A file in the temporary directory, removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& text)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

std::string code(const tc::GeoIp& geo, std::string_view ip) { return geo.country(ip).value_or("-"); }

}  // namespace

TEST_CASE("ranges in Tor's integer layout and the text layout, IPv4 and IPv6") {
  TempFile v4("geoip-v4",
              "# comment\n"
              "16777216,16777471,AU\r\n"    // 1.0.0.0 - 1.0.0.255, CRLF line end
              "16777472,16778239,CN\n"      // 1.0.1.0 - 1.0.3.255
              "16778240,16779263,??\n"      // 1.0.4.0 - 1.0.7.255: no country
              "not,a,range\n"               // malformed: skipped
              "2.0.0.0,2.0.255.255,FR\n");  // text layout
  TempFile v6("geoip-v6",
              "2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,JP\n"
              "2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,de\n");  // lower case: not a code
  TempFile names("iso", R"({"3166-1": [{"alpha_2": "AU", "name": "Australia"},
                                     {"alpha_2": "TW", "name": "Taiwan, Province of China", "common_name": "Taiwan"}]})");
  tc::GeoIp geo({v4.path, v6.path, "/nonexistent/geoip"}, names.path);
  REQUIRE(geo.available());
  CHECK(code(geo, "1.0.0.0") == "AU");
  CHECK(code(geo, "1.0.0.255") == "AU");
  CHECK(code(geo, "1.0.1.0") == "CN");
  CHECK(code(geo, "1.0.3.255") == "CN");
  CHECK(code(geo, "1.0.4.1") == "-");
  CHECK(code(geo, "0.255.255.255") == "-");  // before the first range
  CHECK(code(geo, "2.0.128.1") == "FR");
  CHECK(code(geo, "2.1.0.0") == "-");  // after the last range
  CHECK(code(geo, "2001:db8::1") == "JP");
  CHECK(code(geo, "2001:db8:0:ffff:ffff:ffff:ffff:ffff") == "JP");
  CHECK(code(geo, "2001:db8:1::1") == "-");
  CHECK(code(geo, "::1") == "-");
  CHECK(code(geo, "not an address") == "-");
  CHECK(geo.name("AU") == "Australia");
  CHECK(geo.name("TW") == "Taiwan");  // the common name where there is one
  CHECK(geo.name("ZZ") == "ZZ");
}

TEST_CASE("without readable ranges nothing is available") {
  tc::GeoIp geo({"/nonexistent/geoip"}, "/nonexistent/names.json");
  CHECK_FALSE(geo.available());
  CHECK_FALSE(geo.country("1.2.3.4"));
  CHECK(geo.name("DE") == "DE");
}
