#pragma once
// The auth-server's route tables (one function per group of the spec).
#include <cstdint>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "accounts.hpp"
#include "admin.hpp"
#include "billing.hpp"
#include "common/service.hpp"
#include "gdpr.hpp"
#include "usage.hpp"

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

// /api/billing: plans, status, checkout, cancellation, and the provider's webhook (auth scheme
// "billing_webhook", registered here; limit class "webhook"). Needs "user".
void add_billing_routes(common::Service& service, Billing& billing);

// /api/usage: the caller's meters ("user") and reports from other services (auth scheme
// "usage_service", registered here).
void add_usage_routes(common::Service& service, Usage& usage);

// /.well-known/jwks.json: the access-token verification key.
void add_key_routes(common::Service& service, const AccessTokens& tokens);

// The pages mail links open (/verify-email, /reset-password) and their script and style.
void add_page_routes(common::Service& service);

// Shared by the route files: the public shape of an account, and who is calling.
boost::json::object user_json(const User& user);
identity::Client client_of(const common::Request& request);
boost::json::object subscription_json(const Subscription& subscription);
// An RFC 3339 time, or null.

}  // namespace auth
