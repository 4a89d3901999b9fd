#pragma once
// Where a request came from, as recorded on sessions and audit entries.
#include <optional>
#include <string>
#include <string_view>

#include "common/http.hpp"
#include "identity/sessions.hpp"

namespace identity {

// The User-Agent header as stored: at most 256 bytes, printable ASCII only (other bytes become
// '?'), so no control character reaches a log or a page and no UTF-8 sequence is cut in half.
std::string stored_user_agent(std::optional<std::string_view> header);

// The client address (as the server resolved it, proxies included) and the stored User-Agent.
Client client_of(const common::Request& req);

}  // namespace identity
