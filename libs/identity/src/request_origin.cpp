#include "identity/request_origin.hpp"

namespace identity {

std::string stored_user_agent(std::optional<std::string_view> header) {
  std::string out;
  if (!header) return out;
  for (char ch : header->substr(0, 256)) out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  return out;
}

Client client_of(const common::Request& req) {
  return {req.client_ip, stored_user_agent(req.headers.get("User-Agent"))};
}

}  // namespace identity
