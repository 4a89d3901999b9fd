#pragma once
// Choosing a node for an instance: best-fit bin packing of the workload's requests (cpu,
// memory, disk) over the nodes' free capacity. Pure: the caller brings capacities and what is
// already allocated, so instances and the planner use the same rule.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workload/spec.hpp"

namespace workload {

struct Capacity {
  std::int64_t cpu_millis = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t disk_bytes = 0;
  bool operator==(const Capacity&) const = default;
};

struct NodeLoad {
  std::string id;
  bool schedulable = true;  // false when cordoned, draining or not healthy
  Capacity capacity;        // what the node has
  Capacity allocated;       // the requests of the instances already on it
};

struct Placement {
  std::optional<std::string> node_id;  // empty when nothing fits
  std::string reason;                  // why nothing fits, for a 409 the user can act on
  double score = 0;                    // the chosen node's free share left after placing
};

// A workload's requests as what placement packs; an amount not asked for counts as 0.
Capacity request_of(const Amounts& requests);

// Best fit: among schedulable nodes with room for every request, the one left with the least
// free capacity (mean of the cpu, memory and disk shares still free), which keeps big holes for
// big instances. Ties go to the node with the smallest id, so the choice is reproducible.
Placement place(const Capacity& request, const std::vector<NodeLoad>& nodes);

}  // namespace workload
