#pragma once
// Forgot-password requests waiting for the background step that looks the address up (table
// reset_requests). The answer records the request the same way whatever the address, and a
// recorded request outlives a crash: the service handles what is left after a restart.
// Functions run on a connection inside the caller's transaction.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/connection.hpp"

namespace identity {

struct ResetRequest {
  std::int64_t id = 0;
  std::string email;
  std::string ip;
  std::int64_t requested_at = 0;
};

namespace reset_requests {

void record(store::Connection& c, std::string_view email, std::string_view ip);
// Removes and returns the oldest `limit` requests; the caller handles them in the same transaction.
std::vector<ResetRequest> take(store::Connection& c, int limit);

}  // namespace reset_requests
}  // namespace identity
