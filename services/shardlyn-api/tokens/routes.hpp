#pragma once
// The API-token area's route table.
#include <vector>

#include "common/router.hpp"
#include "orgs/platform.hpp"

namespace shardlyn {

// API Token Endpoints.
std::vector<common::Route> api_token_routes(Platform& platform);

}  // namespace shardlyn
