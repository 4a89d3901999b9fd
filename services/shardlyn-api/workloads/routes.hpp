#pragma once
// The workloads area's route table.
#include "http/route_table.hpp"
#include "instances/instances.hpp"
#include "workloads/workloads.hpp"

namespace shardlyn {

// What the workload routes act through (a changed workload reaches its instances' nodes).
struct WorkloadArea {
  Workloads& workloads;
  Instances& instances;
  DesiredVersions& versions;  // an instance's node hears of a changed workload
};

// Workload Endpoints.
Routes workload_routes(WorkloadArea& area);

}  // namespace shardlyn
