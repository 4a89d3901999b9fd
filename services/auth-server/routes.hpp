#pragma once
// The auth-server's route tables (one function per group of the spec).
#include <boost/json/object.hpp>

#include "accounts.hpp"
#include "admin.hpp"
#include "common/service.hpp"
#include "gdpr.hpp"

namespace auth {

// /api/auth: registration, login, tokens, sessions, password, email verification. Needs the
// "user" auth scheme and the "register", "login" and "reset" limit classes.
void add_auth_routes(common::Service& service, Accounts& accounts);

// /api/auth/totp: two-factor setup, confirmation, disabling and status. Needs "user" and the
// "totp" limit class (per user: code guessing).
void add_totp_routes(common::Service& service, TwoFactor& two_factor);

// /api/admin: accounts, sessions, audit trail, statistics. Needs "admin".
void add_admin_routes(common::Service& service, Administration& administration);

// GDPR: /api/auth/export-data, /api/auth/delete-account, /api/auth/consents. Needs "user".
void add_gdpr_routes(common::Service& service, Privacy& privacy);

// Shared by the route files: the public shape of an account, and who is calling.
boost::json::object user_json(const User& user);
identity::Client client_of(const common::Request& request);

}  // namespace auth
