#include "workload/placement.hpp"

#include <string>

#include "workload/quantity.hpp"

namespace workload {

namespace {

Capacity free_of(const NodeLoad& node) {
  return {node.capacity.cpu_millis - node.allocated.cpu_millis,
          node.capacity.memory_bytes - node.allocated.memory_bytes,
          node.capacity.disk_bytes - node.allocated.disk_bytes};
}

bool fits(const Capacity& request, const Capacity& free) {
  return request.cpu_millis <= free.cpu_millis && request.memory_bytes <= free.memory_bytes &&
         request.disk_bytes <= free.disk_bytes;
}

// The share of a dimension still free after placing; a dimension the node does not have
// (capacity 0) counts as full so it does not bias the choice.
double share_left(std::int64_t free, std::int64_t request, std::int64_t capacity) {
  if (capacity <= 0) return 0;
  return static_cast<double>(free - request) / static_cast<double>(capacity);
}

std::string cpu_text(std::int64_t millis) {
  return millis % 1000 == 0 ? std::to_string(millis / 1000) + " cpu" : std::to_string(millis) + "m cpu";
}

// Names the dimension that stops the request, with the most any node has free of it.
std::string no_fit_reason(const Capacity& request, const std::vector<NodeLoad>& nodes) {
  Capacity best{INT64_MIN, INT64_MIN, INT64_MIN};
  for (const auto& n : nodes) {
    if (!n.schedulable) continue;
    auto f = free_of(n);
    best = {std::max(best.cpu_millis, f.cpu_millis), std::max(best.memory_bytes, f.memory_bytes),
            std::max(best.disk_bytes, f.disk_bytes)};
  }
  std::string reason = "no schedulable node has room for the request";
  auto clamp = [](std::int64_t v) { return v < 0 ? 0 : v; };
  if (request.cpu_millis > best.cpu_millis)
    reason +=
        "; cpu: " + cpu_text(request.cpu_millis) + " asked, at most " + cpu_text(clamp(best.cpu_millis)) + " free";
  if (request.memory_bytes > best.memory_bytes)
    reason += "; memory: " + format_bytes(request.memory_bytes) + " asked, at most " +
              format_bytes(clamp(best.memory_bytes)) + " free";
  if (request.disk_bytes > best.disk_bytes)
    reason += "; disk: " + format_bytes(request.disk_bytes) + " asked, at most " +
              format_bytes(clamp(best.disk_bytes)) + " free";
  return reason;
}

}  // namespace

Capacity request_of(const Amounts& requests) {
  return {requests.cpu_millis.value_or(0), requests.memory_bytes.value_or(0), requests.disk_bytes.value_or(0)};
}

Placement place(const Capacity& request, const std::vector<NodeLoad>& nodes) {
  const NodeLoad* chosen = nullptr;
  double chosen_score = 0;
  bool any_schedulable = false;
  for (const auto& node : nodes) {
    if (!node.schedulable) continue;
    any_schedulable = true;
    auto free = free_of(node);
    if (!fits(request, free)) continue;
    double score = (share_left(free.cpu_millis, request.cpu_millis, node.capacity.cpu_millis) +
                    share_left(free.memory_bytes, request.memory_bytes, node.capacity.memory_bytes) +
                    share_left(free.disk_bytes, request.disk_bytes, node.capacity.disk_bytes)) /
                   3.0;
    if (!chosen || score < chosen_score || (score == chosen_score && node.id < chosen->id)) {
      chosen = &node;
      chosen_score = score;
    }
  }
  if (chosen) return {chosen->id, {}, chosen_score};
  if (nodes.empty()) return {std::nullopt, "there are no nodes; register one first", 0};
  if (!any_schedulable) return {std::nullopt, "every node is cordoned or not healthy", 0};
  return {std::nullopt, no_fit_reason(request, nodes), 0};
}

}  // namespace workload
