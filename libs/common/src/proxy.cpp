#include "common/proxy.hpp"

#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "common/config.hpp"
#include "common/error.hpp"

namespace common {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
ip::address normal(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<ip::address> address_of(std::string_view text) {
  text = trim(text);
  // "[2001:db8::1]" and "[2001:db8::1]:443" as some proxies write them; "1.2.3.4:567" too.
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);
  }
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return normal(a);
}

// The address as 4 or 16 bytes, most significant first.
std::vector<unsigned char> bytes_of(const ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

bool in_network(const ip::address& a, const ip::address& base, unsigned prefix) {
  if (a.is_v4() != base.is_v4()) return false;
  auto x = bytes_of(a), y = bytes_of(base);
  for (std::size_t i = 0; i < x.size() && prefix > 0; ++i) {
    unsigned bits = prefix >= 8 ? 8 : prefix;
    auto mask = static_cast<unsigned char>(0xff << (8 - bits));
    if ((x[i] & mask) != (y[i] & mask)) return false;
    prefix -= bits;
  }
  return true;
}

}  // namespace

TrustedProxies TrustedProxies::parse(std::string_view setting) {
  TrustedProxies t;
  auto s = trim(setting);
  std::string word(s);
  for (auto& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (word.empty() || word == "false" || word == "no" || word == "off") return t;
  if (word == "true" || word == "yes" || word == "on") {
    t.hops_ = 1;
    return t;
  }
  std::size_t hops = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), hops);
  if (ec == std::errc() && end == s.data() + s.size()) {
    if (hops > 32) throw ConfigError("TRUST_PROXY hop count must be between 0 and 32");
    t.hops_ = hops;
    return t;
  }
  for (const auto& item : split_list(s)) {
    std::string_view text = item;
    auto slash = text.find('/');
    auto base = address_of(text.substr(0, slash));
    if (!base)
      throw ConfigError(
          fmt::format("TRUST_PROXY: '{}' is neither true/false, a hop count nor a proxy address or CIDR", item));
    unsigned max = base->is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
      auto bits = text.substr(slash + 1);
      auto [p, e] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      if (bits.empty() || e != std::errc() || p != bits.data() + bits.size() || prefix > max)
        throw ConfigError(fmt::format("TRUST_PROXY: '{}' has an invalid prefix length", item));
    }
    t.networks_.push_back({*base, prefix});
  }
  return t;
}

bool TrustedProxies::trusted(const ip::address& address, std::size_t hop) const {
  if (hops_ > 0) return hop < hops_;
  for (const auto& n : networks_)
    if (in_network(address, n.base, n.prefix)) return true;
  return false;
}

std::string TrustedProxies::client_ip(const std::string& peer, const Headers& headers) const {
  if (!enabled()) return peer;
  std::vector<std::string_view> entries;
  for (const auto& [name, value] : headers.items()) {
    if (!iequals(name, "X-Forwarded-For")) continue;
    std::string_view rest = value;
    while (true) {
      auto comma = rest.find(',');
      entries.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  auto current = address_of(peer);
  if (!current) return peer;
  std::string client = peer;
  // Each trusted hop vouches for the entry it appended: step left while the address at hand
  // is a trusted proxy; an entry that is not an address ends the walk at the hop that sent it.
  for (std::size_t hop = 0; hop < entries.size() && trusted(*current, hop); ++hop) {
    auto next = address_of(entries[entries.size() - 1 - hop]);
    if (!next) break;
    current = next;
    client = next->to_string();
  }
  return client;
}

std::string TrustedProxies::describe() const {
  if (hops_ > 0) return fmt::format("{} proxy hop{}", hops_, hops_ == 1 ? "" : "s");
  if (networks_.empty()) return "X-Forwarded-For ignored";
  std::string out = "proxies at";
  for (const auto& n : networks_) out += fmt::format(" {}/{}", n.base.to_string(), n.prefix);
  return out;
}

}  // namespace common
