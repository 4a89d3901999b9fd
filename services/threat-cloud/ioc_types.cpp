#include "ioc_types.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace tc {

namespace {

constexpr std::size_t kMaxValue = 2048;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// No spaces, control characters or DEL anywhere in an indicator.
bool printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

std::optional<std::string> ipv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  std::string text(s);
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;  // rejects leading zeros
  char out[INET_ADDRSTRLEN];
  if (!inet_ntop(AF_INET, &addr, out, sizeof out)) return std::nullopt;
  return std::string(out);
}

std::optional<std::string> ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45 || s.find('%') != std::string_view::npos) return std::nullopt;
  std::string text(s);
  in6_addr addr{};
  if (inet_pton(AF_INET6, text.c_str(), &addr) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&addr)) {  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d
    char v4[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &addr.s6_addr[12], v4, sizeof v4)) return std::nullopt;
    return std::string(v4);
  }
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, &addr, out, sizeof out)) return std::nullopt;
  return std::string(out);
}

// A TCP/UDP port 1-65535 written in decimal.
std::optional<int> port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return value;
}

// A network in CIDR notation with the host bits cleared ("192.0.2.0/24"); a full-length
// prefix (/32, /128) is the plain address.
std::optional<std::string> normalize_cidr(std::string_view s) {
  auto slash = s.find('/');
  auto bits_text = s.substr(slash + 1);
  if (bits_text.empty() || bits_text.size() > 3 || !std::all_of(bits_text.begin(), bits_text.end(), is_digit))
    return std::nullopt;
  int bits = 0;
  std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  std::string text(s.substr(0, slash));
  bool v6 = text.find(':') != std::string::npos;
  unsigned char addr[16] = {};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), addr) != 1) return std::nullopt;
  int size = v6 ? 16 : 4;
  if (bits > size * 8) return std::nullopt;
  for (int i = 0; i < size; ++i) {
    int keep = std::clamp(bits - i * 8, 0, 8);
    addr[i] = static_cast<unsigned char>(addr[i] & (0xff00 >> keep));
  }
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(v6 ? AF_INET6 : AF_INET, addr, out, sizeof out)) return std::nullopt;
  if (bits == size * 8) return v6 ? ipv6(out) : std::optional<std::string>(out);
  return std::string(out) + "/" + std::to_string(bits);
}

std::optional<std::string> normalize_ip(std::string_view s) {
  if (s.find('/') != std::string_view::npos) return normalize_cidr(s);
  if (s.starts_with('[')) {  // [v6] or [v6]:port
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto rest = s.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && port(rest.substr(1)))) return std::nullopt;
    return ipv6(s.substr(1, close - 1));
  }
  auto colons = std::count(s.begin(), s.end(), ':');
  if (colons == 0) return ipv4(s);
  if (colons == 1) {  // v4:port
    auto colon = s.find(':');
    if (!port(s.substr(colon + 1))) return std::nullopt;
    return ipv4(s.substr(0, colon));
  }
  return ipv6(s);
}

// Host names: labels of [a-z0-9_-] or non-ASCII bytes (IDN as given), 1-63 bytes each, no
// leading or trailing hyphen, at most 253 bytes, a TLD that is not all digits. Expects lower case.
bool valid_hostname(std::string_view host, std::size_t min_labels) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    auto dot = host.find('.', start);
    auto label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      if (!(u >= 0x80 || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_')) return false;
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < min_labels) return false;
  if (std::all_of(last.begin(), last.end(), is_digit)) return false;
  return last.find('_') == std::string_view::npos;
}

std::optional<std::string> normalize_domain(std::string_view s) {
  if (s.ends_with('.')) s.remove_suffix(1);
  std::string host = to_lower(s);
  if (!valid_hostname(host, 2)) return std::nullopt;
  return host;
}

std::optional<std::string> normalize_hash(std::string_view s, std::size_t length) {
  if (s.size() != length || !std::all_of(s.begin(), s.end(), is_hex)) return std::nullopt;
  return to_lower(s);
}

std::optional<std::string> normalize_cve(std::string_view s) {
  // CVE-YYYY-NNNN with at least four sequence digits.
  if (s.size() < 13 || s.size() > 32) return std::nullopt;
  std::string out;
  for (char c : s) out += upper(c);
  if (!out.starts_with("CVE-") || out[8] != '-') return std::nullopt;
  auto year = std::string_view(out).substr(4, 4);
  auto seq = std::string_view(out).substr(9);
  if (!std::all_of(year.begin(), year.end(), is_digit) || !std::all_of(seq.begin(), seq.end(), is_digit))
    return std::nullopt;
  if (year < "1999") return std::nullopt;
  return out;
}

std::optional<std::string> normalize_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return std::nullopt;
  auto local = s.substr(0, at);
  static constexpr std::string_view kForbidden = "@<>()[],;:\"\\";
  for (char c : local)
    if (kForbidden.find(c) != std::string_view::npos) return std::nullopt;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return std::nullopt;
  auto domain = normalize_domain(s.substr(at + 1));
  if (!domain || s.substr(at + 1).ends_with('.')) return std::nullopt;
  return to_lower(local) + "@" + *domain;
}

int default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return -1;
}

int hex_value(char c) { return is_digit(c) ? c - '0' : lower(c) - 'a' + 10; }

// RFC 3986 6.2.2.2: escapes in upper case, escapes of unreserved characters decoded.
std::string normalize_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%' || i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
      out += s[i];
      continue;
    }
    auto c = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += upper(s[i + 1]);
      out += upper(s[i + 2]);
    }
    i += 2;
  }
  return out;
}

// RFC 3986 5.2.4 for an absolute path: "." and ".." segments resolved.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool directory = false;  // the path ends in a directory (a resolved "." or "..")
  std::string_view rest = path.substr(1);
  while (true) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    directory = segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  std::string out;
  for (auto segment : kept) out.append("/").append(segment);
  if (directory || out.empty()) out += '/';
  return out;
}

std::optional<std::string> normalize_url(std::string_view s) {
  auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  auto scheme_raw = s.substr(0, sep);
  if (!is_alpha(scheme_raw.front())) return std::nullopt;
  for (char c : scheme_raw)
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return std::nullopt;
  std::string scheme = to_lower(scheme_raw);

  auto rest = s.substr(sep + 3);
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);

  std::string userinfo;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = std::string(authority.substr(0, at + 1));
    authority = authority.substr(at + 1);
  }
  std::string_view host_raw = authority;
  std::string_view port_raw;
  std::string host;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto v6 = ipv6(authority.substr(1, close - 1));
    if (!v6) return std::nullopt;
    host = v6->find(':') == std::string::npos ? *v6 : "[" + *v6 + "]";  // IPv4-mapped becomes IPv4
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_raw = after.substr(1);
    }
  } else {
    if (auto colon = authority.find(':'); colon != std::string_view::npos) {
      host_raw = authority.substr(0, colon);
      port_raw = authority.substr(colon + 1);
    }
    if (host_raw.ends_with('.')) host_raw.remove_suffix(1);
    if (auto v4 = ipv4(host_raw)) {
      host = *v4;
    } else {
      host = to_lower(host_raw);
      if (!valid_hostname(host, 1)) return std::nullopt;
    }
  }
  std::string port_text;
  if (!port_raw.empty() || authority.ends_with(':')) {
    if (port_raw.empty()) {
      // "http://host:/" means the default port.
    } else {
      auto p = port(port_raw);
      if (!p) return std::nullopt;
      if (*p != default_port(scheme)) port_text = ":" + std::to_string(*p);
    }
  }
  std::string out = scheme + "://" + userinfo + host + port_text;
  auto query_start = tail.find('?');
  auto path = tail.substr(0, query_start);
  out += path.empty() ? "/" : remove_dot_segments(normalize_escapes(path));
  if (query_start != std::string_view::npos) out += normalize_escapes(tail.substr(query_start));
  return out;
}

}  // namespace

std::string_view type_name(IocType type) {
  auto index = static_cast<std::size_t>(type);
  return index < kTypeNames.size() ? kTypeNames[index] : "unknown";
}

std::optional<IocType> parse_type(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i)
    if (kTypeNames[i] == name) return static_cast<IocType>(i);
  return std::nullopt;
}

std::optional<std::string> normalize(IocType type, std::string_view value) {
  value = trim(value);
  if (value.empty() || value.size() > kMaxValue || !printable(value)) return std::nullopt;
  switch (type) {
    case IocType::Ip: return normalize_ip(value);
    case IocType::Domain: return normalize_domain(value);
    case IocType::Url: return normalize_url(value);
    case IocType::HashMd5: return normalize_hash(value, 32);
    case IocType::HashSha1: return normalize_hash(value, 40);
    case IocType::HashSha256: return normalize_hash(value, 64);
    case IocType::Email: return normalize_email(value);
    case IocType::Cve: return normalize_cve(value);
  }
  return std::nullopt;
}

std::optional<Classified> classify(std::string_view value, std::optional<IocType> hint) {
  if (hint) {
    auto n = normalize(*hint, value);
    if (!n) return std::nullopt;
    return Classified{*hint, std::move(*n)};
  }
  auto v = trim(value);
  std::optional<IocType> guess;
  if (v.size() >= 4 && (v[0] == 'c' || v[0] == 'C') && (v[1] == 'v' || v[1] == 'V') && (v[2] == 'e' || v[2] == 'E') &&
      v[3] == '-') {
    guess = IocType::Cve;
  } else if (!v.empty() && std::all_of(v.begin(), v.end(), is_hex) &&
             (v.size() == 32 || v.size() == 40 || v.size() == 64)) {
    guess = v.size() == 32 ? IocType::HashMd5 : v.size() == 40 ? IocType::HashSha1 : IocType::HashSha256;
  } else if (v.find("://") != std::string_view::npos) {
    guess = IocType::Url;
  } else if (v.find('@') != std::string_view::npos) {
    guess = IocType::Email;
  } else if (normalize(IocType::Ip, v)) {
    guess = IocType::Ip;
  } else {
    guess = IocType::Domain;
  }
  return classify(v, guess);
}

}  // namespace tc
