#pragma once
// The identity area's route tables: sign-in, MFA, the caller's account and the mail-link pages.
#include <vector>

#include "common/router.hpp"
#include "identity/accounts.hpp"
#include "identity/github.hpp"
#include "orgs/platform.hpp"

namespace shardlyn {

// Auth Endpoints (plus logout) and MFA Endpoints. Needs the "login" and "mfa" limit classes.
std::vector<common::Route> auth_routes(Accounts& accounts, GitHub& github);
// User Endpoints.
std::vector<common::Route> user_routes(Accounts& accounts, Platform& platform);
// The pages links in mails open: /verify-email, /reset-password, /invites/{token}.
std::vector<common::Route> page_routes(Accounts& accounts, Platform& platform);

}  // namespace shardlyn
