#include "identity/reset_requests.hpp"

#include "store/time.hpp"

namespace identity::reset_requests {

namespace {

constexpr std::string_view kInsert = "INSERT INTO reset_requests (email, ip, requested_at) VALUES (?, ?, ?)";
constexpr std::string_view kOldest = "SELECT id, email, ip, requested_at FROM reset_requests ORDER BY id LIMIT ?";
constexpr std::string_view kDelete = "DELETE FROM reset_requests WHERE id = ?";

}  // namespace

void record(store::Connection& c, std::string_view email, std::string_view ip) {
  c.execute(kInsert, email, ip, store::unix_now());
}

std::vector<ResetRequest> take(store::Connection& c, int limit) {
  std::vector<ResetRequest> out;
  auto q = c.prepare(kOldest);
  q->bind_all(limit);
  while (q->step()) out.push_back({q->int64(0), q->text(1), q->text(2), q->int64(3)});
  for (const auto& r : out) c.execute(kDelete, r.id);
  return out;
}

}  // namespace identity::reset_requests
