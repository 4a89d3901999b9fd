#pragma once
// What the route files share: the public shapes of resources, list pages and who a request
// comes from.
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "admin/audit.hpp"
#include "admin/users.hpp"
#include "http/access.hpp"
#include "identity/users.hpp"

namespace shardlyn {

boost::json::object user_json(const User& user);
// One page (query parameters page and per_page) of a short list held in full, in the Shardlyn
// list shape {items, total, page, per_page}.
common::Response list_page(const common::Request& req, boost::json::array items);
// One page of accounts (page, per_page, search), for /v1/users and /v1/admin/users.
common::Response user_page(Users& users, const common::Request& req);
// The request's origin for the audit trail (no user yet).
audit::Actor anonymous(const common::Request& req);
std::string user_agent(const common::Request& req);

}  // namespace shardlyn
