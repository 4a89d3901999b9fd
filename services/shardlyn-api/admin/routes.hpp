#pragma once
// The administration area's route tables.
#include <vector>

#include "common/router.hpp"
#include "orgs/platform.hpp"

namespace shardlyn {

// Settings, Webhook Token, Support and System Endpoints.
std::vector<common::Route> settings_routes(Platform& platform);
// Admin Endpoints (platform administration and admin settings).
std::vector<common::Route> admin_routes(Platform& platform);

}  // namespace shardlyn
