#pragma once
// The API-token area's route table.
#include "http/route_table.hpp"
#include "tokens/tokens.hpp"

namespace shardlyn {

// API Token Endpoints.
Routes api_token_routes(ApiTokens& tokens);

}  // namespace shardlyn
