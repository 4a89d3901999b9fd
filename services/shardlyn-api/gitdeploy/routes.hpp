#pragma once
// Git Deploy (6 routes) and the GitHub and GitLab webhook receivers.
#include "gitdeploy/git_deploy.hpp"
#include "http/route_table.hpp"

namespace shardlyn {

struct GitDeployArea {
  GitDeploys& deploys;
};

// /v1/instances/{id}/git[...] (instances.git) and POST /v1/webhooks/github|gitlab (public,
// signature only).
Routes git_deploy_routes(GitDeployArea& area);

}  // namespace shardlyn
