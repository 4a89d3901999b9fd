#pragma once
// IP-to-country resolution from range files, and ISO 3166-1 country names. Range files hold
// one "start,end,CC" line per range, '#' comments allowed: Tor's geoip (IPv4 as integers),
// geoip6 and the ip-location-db CSVs (addresses as text, IPv4 or IPv6). "??" and other codes
// that are not two letters mean unknown.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tc {

class GeoIp {
 public:
  // Files are read on first use (start-up stays fast); missing files are skipped with a warning.
  GeoIp(std::vector<std::filesystem::path> range_files, std::filesystem::path names_file);

  // True when at least one range was loaded.
  bool available() const;
  // The alpha-2 code of the range holding `ip` (canonical text), nullopt when unknown.
  std::optional<std::string> country(std::string_view ip) const;
  // The ISO 3166-1 name of a code ("DE" -> "Germany"), or the code itself when unknown.
  std::string name(std::string_view code) const;

  // One range of each family, inclusive.
  struct Range4 {
    std::uint32_t start, end;
    std::array<char, 2> code;
  };
  struct Range6 {
    std::array<unsigned char, 16> start, end;
    std::array<char, 2> code;
  };

 private:
  void load() const;
  std::vector<std::filesystem::path> files_;
  std::filesystem::path names_file_;
  mutable std::once_flag loaded_;
  mutable std::vector<Range4> v4_;
  mutable std::vector<Range6> v6_;
  mutable std::map<std::string, std::string, std::less<>> names_;
};

}  // namespace tc
