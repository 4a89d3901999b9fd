#pragma once
// IoC types: detection of what a value is, and its canonical (normalised) form. Pure
// functions without storage or HTTP, so they are unit-tested directly.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace tc {

enum class IocType { Ip, Domain, Url, HashMd5, HashSha1, HashSha256, Email, Cve };

// The wire names, in the order of IocType.
inline constexpr std::array<std::string_view, 8> kTypeNames{"ip",        "domain",      "url",   "hash_md5",
                                                            "hash_sha1", "hash_sha256", "email", "cve"};

// "ip", "domain", "url", "hash_md5", "hash_sha1", "hash_sha256", "email", "cve".
std::string_view type_name(IocType type);
// The reverse of type_name; nullopt for anything else.
std::optional<IocType> parse_type(std::string_view name);

// A value with its detected (or given) type and canonical form.
struct Classified {
  IocType type;
  std::string normalized;
};

// Normalises `value` as `type`; nullopt when it is not a valid value of that type.
//   ip:     IPv4 or IPv6 without port or brackets, canonical text (IPv6 compressed, lower case;
//           IPv4-mapped IPv6 becomes the IPv4 address); or a CIDR network with its host bits
//           cleared ("192.0.2.0/24"), a /32 or /128 being the plain address
//   domain: lower case ASCII, no trailing dot, labels 1-63, total <= 253, IDN bytes kept as given
//   url:    lower-case scheme and host, default port removed, empty path "/", fragment dropped
//   hash_*: lower-case hex of 32 / 40 / 64 characters
//   email:  lower case, local part and a valid domain
//   cve:    CVE-YYYY-NNNN+ in upper case
// Surrounding whitespace is ignored.
std::optional<std::string> normalize(IocType type, std::string_view value);

// Detects the type (CVE, hash by length, URL, email, IP, domain, in that order) and
// normalises; with a hint, only that type is tried. nullopt when nothing fits.
std::optional<Classified> classify(std::string_view value, std::optional<IocType> hint = std::nullopt);

}  // namespace tc
