#include "identity/fields.hpp"

#include <algorithm>
#include <cctype>

namespace identity {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool valid_local_part(std::string_view local) {
  static constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~.-";
  if (local.empty() || local.size() > 64) return false;
  if (!std::all_of(local.begin(), local.end(), [](char c) { return alnum(c) || kSpecials.find(c) != kSpecials.npos; }))
    return false;
  return local.front() != '.' && local.back() != '.' && local.find("..") == std::string_view::npos;
}

bool valid_domain(std::string_view domain) {
  if (domain.find('.') == std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto end = std::min(domain.find('.', start), domain.size());
    auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return alnum(c) || c == '-'; })) return false;
    start = end + 1;
  }
  auto tld = domain.substr(domain.rfind('.') + 1);
  return std::any_of(tld.begin(), tld.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

bool valid_email(std::string_view address) {
  if (address.size() > 254) return false;
  auto at = address.find('@');
  if (at == std::string_view::npos || at != address.rfind('@')) return false;
  return valid_local_part(address.substr(0, at)) && valid_domain(address.substr(at + 1));
}

std::string normalized_email(std::string_view address) {
  std::string out(address);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace identity
