#pragma once
// The auth-server's route tables (one function per group of the spec): named handlers, one row
// per route in the order of the API reference; main adds them to the service.
#include <cstdint>
#include <optional>
#include <vector>

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
std::vector<common::Route> auth_routes(Accounts& accounts);

// /api/auth/totp: two-factor setup, confirmation, disabling and status. Needs "user" and the
// "totp" limit class (per user: code guessing).
std::vector<common::Route> totp_routes(TwoFactor& two_factor);

// /api/admin: accounts, sessions, audit trail, statistics. Needs "admin".
std::vector<common::Route> admin_routes(Administration& administration);

// GDPR: /api/auth/export-data, /api/auth/delete-account, /api/auth/consents. Needs "user".
std::vector<common::Route> gdpr_routes(Privacy& privacy);

// /api/billing: plans, status, checkout, cancellation, and the provider's webhook (auth scheme
// "billing_webhook"; limit class "webhook"). Needs "user".
std::vector<common::Route> billing_routes(Billing& billing);
// The "billing_webhook" scheme: the provider's HMAC signature over the raw body.
void add_billing_webhook_scheme(common::Service& service, Billing& billing);

// /api/usage: the caller's meters ("user") and reports from other services (auth scheme
// "usage_service").
std::vector<common::Route> usage_routes(Usage& usage);
// The "usage_service" scheme: the bearer token of the other Panguard services.
void add_usage_service_scheme(common::Service& service, Usage& usage);

// /.well-known/jwks.json: the access-token verification key.
std::vector<common::Route> key_routes(const AccessTokens& tokens);

// The pages mail links open (/verify-email, /reset-password) and their script and style.
std::vector<common::Route> page_routes();

// Shared by the route files: the public shape of an account, and who is calling.
boost::json::object user_json(const User& user);
identity::Client client_of(const common::Request& request);
boost::json::object subscription_json(const Subscription& subscription);

}  // namespace auth
