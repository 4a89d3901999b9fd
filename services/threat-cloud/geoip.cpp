#include "geoip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "common/log.hpp"

namespace tc {

namespace {

bool parse_v4(std::string_view text, std::uint32_t& out) {
  if (text.find('.') == std::string_view::npos) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
  }
  in_addr a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

bool parse_v6(std::string_view text, std::array<unsigned char, 16>& out) {
  in6_addr a{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), &a) != 1) return false;
  std::copy(std::begin(a.s6_addr), std::end(a.s6_addr), out.begin());
  return true;
}

bool valid_code(std::string_view code) {
  return code.size() == 2 && std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

GeoIp::GeoIp(std::vector<std::filesystem::path> range_files, std::filesystem::path names_file)
    : files_(std::move(range_files)), names_file_(std::move(names_file)) {}

void GeoIp::load() const {
  std::call_once(loaded_, [this] {
    for (const auto& file : files_) {
      std::ifstream in(file);
      if (!in) {
        common::log::warn("geoip file not readable; skipped", {{"file", file.string()}});
        continue;
      }
      std::string line;
      std::size_t malformed = 0;
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::string_view l(line);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        auto c1 = l.find(','), c2 = l.find(',', c1 == std::string_view::npos ? c1 : c1 + 1);
        if (c1 == std::string_view::npos || c2 == std::string_view::npos) {
          ++malformed;
          continue;
        }
        auto start = l.substr(0, c1), end = l.substr(c1 + 1, c2 - c1 - 1), code = l.substr(c2 + 1);
        if (!valid_code(code)) continue;  // "??": no country
        std::array<char, 2> cc{code[0], code[1]};
        if (start.find(':') != std::string_view::npos) {
          Range6 r{{}, {}, cc};
          if (parse_v6(start, r.start) && parse_v6(end, r.end) && r.start <= r.end)
            v6_.push_back(r);
          else
            ++malformed;
        } else {
          Range4 r{0, 0, cc};
          if (parse_v4(start, r.start) && parse_v4(end, r.end) && r.start <= r.end)
            v4_.push_back(r);
          else
            ++malformed;
        }
      }
      common::log::info("geoip ranges loaded", {{"file", file.string()},
                                                {"ipv4", static_cast<std::int64_t>(v4_.size())},
                                                {"ipv6", static_cast<std::int64_t>(v6_.size())},
                                                {"malformed", static_cast<std::int64_t>(malformed)}});
    }
    std::sort(v4_.begin(), v4_.end(), [](const Range4& a, const Range4& b) { return a.start < b.start; });
    std::sort(v6_.begin(), v6_.end(), [](const Range6& a, const Range6& b) { return a.start < b.start; });

    std::ifstream in(names_file_);
    if (!in) {
      common::log::warn("ISO 3166 names not readable; countries are shown by code", {{"file", names_file_.string()}});
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto doc = boost::json::parse(text.str(), ec);
    const auto* list = !ec && doc.is_object() ? doc.as_object().if_contains("3166-1") : nullptr;
    if (!list || !list->is_array()) return;
    for (const auto& entry : list->as_array()) {
      if (!entry.is_object()) continue;
      const auto* code = entry.as_object().if_contains("alpha_2");
      const auto* name = entry.as_object().if_contains("common_name");
      if (!name) name = entry.as_object().if_contains("name");
      if (code && name && code->is_string() && name->is_string())
        names_.emplace(std::string(code->as_string()), std::string(name->as_string()));
    }
  });
}

bool GeoIp::available() const {
  load();
  return !v4_.empty() || !v6_.empty();
}

std::optional<std::string> GeoIp::country(std::string_view ip) const {
  load();
  // The last range starting at or before the address holds it if it also ends at or after it
  // (ranges do not overlap).
  std::uint32_t v4 = 0;
  if (ip.find(':') == std::string_view::npos && parse_v4(ip, v4)) {
    auto it =
        std::upper_bound(v4_.begin(), v4_.end(), v4, [](std::uint32_t a, const Range4& r) { return a < r.start; });
    if (it == v4_.begin() || (--it)->end < v4) return std::nullopt;
    return std::string(it->code.data(), 2);
  }
  std::array<unsigned char, 16> v6{};
  if (!parse_v6(ip, v6)) return std::nullopt;
  auto it = std::upper_bound(v6_.begin(), v6_.end(), v6, [](const auto& a, const Range6& r) { return a < r.start; });
  if (it == v6_.begin() || (--it)->end < v6) return std::nullopt;
  return std::string(it->code.data(), 2);
}

std::string GeoIp::name(std::string_view code) const {
  load();
  auto it = names_.find(code);
  return it == names_.end() ? std::string(code) : it->second;
}

}  // namespace tc
