#pragma once
// The agent's own local routes about its node, and the node gauges on its /metrics.
#include <vector>

#include "common/metrics.hpp"
#include "common/router.hpp"

namespace agent {

class NodeMetrics;

std::vector<common::Route> node_routes(NodeMetrics& metrics);
// Gauges read at scrape time from the same sample the JSON route serves.
void export_node_gauges(common::metrics::Registry& registry, NodeMetrics& metrics);

}  // namespace agent
