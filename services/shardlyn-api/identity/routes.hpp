#pragma once
// The identity area's route tables: sign-in, MFA, the caller's account and the mail-link pages.
#include "admin/users.hpp"
#include "http/route_table.hpp"
#include "identity/accounts.hpp"
#include "identity/github.hpp"
#include "orgs/orgs.hpp"

namespace shardlyn {

// What the Auth and MFA routes act through.
struct AuthArea {
  Accounts& accounts;
  GitHub& github;
};
// Auth Endpoints (plus logout, address verification, GitHub link) and MFA Endpoints. Needs the
// "login" and "mfa" limit classes.
Routes auth_routes(AuthArea& area);

// What the User Endpoints act through.
struct UserArea {
  Accounts& accounts;
  Organizations& organizations;
  Users& users;
};
Routes user_routes(UserArea& area);

// What the pages mail links open act through.
struct PageArea {
  Accounts& accounts;
  Invites& invites;
};
// The pages links in mails open: /verify-email, /reset-password, /invites/{token}.
Routes page_routes(PageArea& area);

}  // namespace shardlyn
