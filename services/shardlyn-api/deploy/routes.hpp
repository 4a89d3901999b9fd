#pragma once
// The deploy area's route table: Deploy (One-Click) Endpoints (deployments and templates).
#include "deploy/deploy.hpp"
#include "http/route_table.hpp"

namespace shardlyn {

struct DeployArea {
  Deployments& deployments;
};

Routes deploy_routes(DeployArea& area);

}  // namespace shardlyn
