#pragma once
// shardlyn-api's route table, one function per group of the API reference, and what the route
// files share: the public shapes of resources and who a request comes from.
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "access.hpp"
#include "accounts.hpp"
#include "audit.hpp"
#include "github.hpp"
#include "platform.hpp"
#include "users.hpp"

namespace shardlyn {

// Auth Endpoints (plus logout) and MFA Endpoints. Needs the "login", "mfa" and "reset" limit classes.
std::vector<common::Route> auth_routes(Accounts& accounts, GitHub& github);
// User Endpoints.
std::vector<common::Route> user_routes(Accounts& accounts, Platform& platform);
// Organization Endpoints (organisations, members, invites) and the Permissions Endpoint.
std::vector<common::Route> organization_routes(Platform& platform);
// API Token Endpoints.
std::vector<common::Route> api_token_routes(Platform& platform);
// Settings, Webhook Token, Support and System Endpoints.
std::vector<common::Route> settings_routes(Platform& platform);
// Admin Endpoints (platform administration and admin settings).
std::vector<common::Route> admin_routes(Platform& platform);
// The pages links in mails open: /verify-email, /reset-password, /invites/{token}.
std::vector<common::Route> page_routes(Accounts& accounts, Platform& platform);

boost::json::object user_json(const User& user);
// One page (query parameters page and per_page) of a short list held in full, in the Shardlyn
// list shape {items, total, page, per_page}.
common::Response list_page(const common::Request& req, boost::json::array items);
// One page of accounts (page, per_page, search), for /v1/users and /v1/admin/users.
common::Response user_page(Platform& platform, const common::Request& req);
// The request's origin for the audit trail (no user yet).
audit::Actor anonymous(const common::Request& req);
audit::Actor actor_of(const Caller& caller);
std::string user_agent(const common::Request& req);

}  // namespace shardlyn
