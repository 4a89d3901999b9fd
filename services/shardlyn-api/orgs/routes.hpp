#pragma once
// The organisations area's route table.
#include "http/route_table.hpp"
#include "orgs/orgs.hpp"

namespace shardlyn {

// What the organisation routes act through.
struct OrgArea {
  Organizations& organizations;
  Members& members;
  Invites& invites;
};

// Organization Endpoints (organisations, members, invites) and the Permissions Endpoint.
Routes organization_routes(OrgArea& area);

}  // namespace shardlyn
