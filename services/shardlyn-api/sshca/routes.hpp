#pragma once
// The SSH Certificate Authority's route table.
#include "http/route_table.hpp"
#include "sshca/authority.hpp"

namespace shardlyn {

// SSH Certificate Authority Endpoints, and the KRL (GET /v1/ssh/krl) sshd's RevokedKeys reads.
Routes ssh_ca_routes(SshAuthority& authority);

}  // namespace shardlyn
