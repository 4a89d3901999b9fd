#pragma once
// The Credentials route table.
#include "credentials/credentials.hpp"
#include "http/route_table.hpp"

namespace shardlyn {

// Credentials Endpoints.
Routes credential_routes(Credentials& credentials);

}  // namespace shardlyn
