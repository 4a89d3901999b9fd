#include "store/time.hpp"

#include <chrono>
#include <ctime>

namespace store {

std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string now_rfc3339() {
  const std::time_t now = static_cast<std::time_t>(unix_now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  const std::size_t size = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, size);
}

}  // namespace store
