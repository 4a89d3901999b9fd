#pragma once
// The organisations area's route table.
#include <vector>

#include "common/router.hpp"
#include "orgs/platform.hpp"

namespace shardlyn {

// Organization Endpoints (organisations, members, invites) and the Permissions Endpoint.
std::vector<common::Route> organization_routes(Platform& platform);

}  // namespace shardlyn
