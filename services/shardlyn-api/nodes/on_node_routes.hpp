#pragma once
// The Node Endpoints that act on the node through its agent: Inventory, the terminal (Monitoring)
// and Container Management (on Node).
#include "http/route_table.hpp"
#include "nodes/on_node.hpp"
#include "nodes/terminal.hpp"

namespace shardlyn {

struct OnNodeArea {
  Inventory& inventory;
  ContainerManagement& containers;
  NodeTerminals& terminals;
};

Routes on_node_routes(OnNodeArea& area);

}  // namespace shardlyn
