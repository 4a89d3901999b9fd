#pragma once
// Sign-in and account security: bootstrap of the first admin, registration, password login
// with lockout, the TOTP challenge, refresh-token rotation, password changes and resets, MFA
// enrolment. Sessions, lockout, TOTP and mail tokens come from libs/identity.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "admin/audit.hpp"
#include "common/mail.hpp"
#include "http/access.hpp"
#include "identity/deferred.hpp"
#include "identity/lockout.hpp"
#include "identity/password_login.hpp"
#include "identity/totp_store.hpp"
#include "identity/users.hpp"
#include "store/database.hpp"

namespace shardlyn {

struct SignIn {
  AccessToken access;
  std::string refresh_token;
  std::string user_id;
  std::string session_id;
};

// What a password login led to: tokens, or a TOTP challenge to complete.
struct LoginResult {
  std::optional<SignIn> tokens;
  std::string challenge_token;
};

struct AccountSettings {
  std::int64_t refresh_ttl_s = 30 * 24 * 3600;
  std::int64_t challenge_ttl_s = 300;
  std::int64_t reset_ttl_s = 3600;
  std::int64_t verify_ttl_s = 48 * 3600;
  std::int64_t link_ttl_s = 600;  // a GitHub identity waiting for the password holder's confirmation
  std::string app_url;            // where links in mails point (this service's pages unless configured)
  identity::LockoutPolicy lockout;
};

class Accounts {
 public:
  Accounts(store::Database& db, const Access& access, const identity::TotpStore& totp, common::MailQueue& mail,
           AccountSettings settings);

  bool bootstrap_needed();
  // The first platform admin, with an organisation of their own; 409 once anyone exists. The
  // operator's address counts as verified.
  User bootstrap(std::string_view email, std::string_view password, std::string_view name, const audit::Actor& from);
  // A new account with an organisation of its own, and a mail with the link that verifies the
  // address. For an address that is taken nothing changes: its owner is mailed instead and the
  // answer is a record of the same shape (with an id that names no account), after the same
  // hash and the same kind of commit, so that registration does not tell which addresses exist.
  User register_account(std::string_view email, std::string_view password, std::string_view name,
                        const audit::Actor& from);
  // Marks the address behind a verification token as verified (400 unknown, used or expired).
  void verify_email(std::string_view token, const audit::Actor& from);
  // Mails a new verification link (409 when the address is verified already).
  void resend_verification(const Caller& caller);

  // 401 for a wrong address or password, and while the account is locked (even for the right
  // password: the lock must not tell which addresses exist; its owner is mailed when it starts);
  // 403 when suspended.
  LoginResult login(std::string_view email, std::string_view password, const audit::Actor& from,
                    std::string_view user_agent);
  // Completes a login with a TOTP or backup code (401 for a bad challenge or code).
  SignIn complete_challenge(std::string_view challenge_token, std::string_view code, const audit::Actor& from,
                            std::string_view user_agent);
  // Rotates a refresh token (401 unknown; reuse revokes the session and is 401 as well).
  SignIn refresh(std::string_view refresh_token, const audit::Actor& from);
  // Signs in an account found by other means (GitHub): 403 when suspended; with TOTP on, the
  // same challenge as a password login, so every way in ends at the same second factor.
  LoginResult sign_in(const User& user, const audit::Actor& from, std::string_view user_agent);
  // A GitHub identity whose verified address belongs to an existing, unlinked account: mails
  // that account's owner and returns the token that confirm_github_link takes.
  std::string offer_github_link(const User& existing, std::string_view github_id, std::string_view login,
                                const audit::Actor& from);
  // The password holder confirms the link (after Keycloak's first-broker-login): the account's
  // password (401, counted towards the lockout like a login), a verified address (409), a token
  // used once (401); then signs in like sign_in.
  LoginResult confirm_github_link(std::string_view link_token, std::string_view password, const audit::Actor& from,
                                  std::string_view user_agent);
  std::int64_t link_ttl() const { return settings_.link_ttl_s; }

  std::int64_t challenge_ttl() const { return settings_.challenge_ttl_s; }
  // Ends the caller's session (its refresh token stops working too).
  void logout(const Caller& caller);

  User me(std::string_view user_id);
  // 401 when the current password is wrong; ends every other session.
  void change_password(const Caller& caller, std::string_view current, std::string_view replacement);
  // Sets the password behind a reset token (400 for an unknown, used or expired token) and
  // ends every session. The mailed token proves the address, which counts as verified from then
  // on; an account whose address was not verified before also loses its API tokens (whoever
  // registered it without owning the address may have made them).
  void reset_password(std::string_view token, std::string_view replacement, const audit::Actor& from);
  // Records the request and answers; looking the address up and mailing a reset link when an
  // account uses it happens afterwards (process_reset_requests), so the answer does the same
  // work in the same time whether the address is registered or not.
  void forgot_password(std::string_view email, const audit::Actor& from);
  // Handles the recorded reset requests (after each request, and periodically for those a
  // restart interrupted).
  void process_reset_requests();

  identity::TotpStatus mfa_status(const Caller& caller);
  identity::TotpEnrolment mfa_enroll(const Caller& caller);
  // 401 when the code is wrong or used (as on every route taking a code); 409 when there is
  // nothing to confirm.
  void mfa_verify(const Caller& caller, std::string_view code);
  // 401 when the code is wrong or used; 409 when MFA is off.
  void mfa_disable(const Caller& caller, std::string_view code);

  // Deletes sessions that ended a week ago and spent or expired mail tokens.
  void purge_expired();

 private:
  SignIn start_session(store::Connection& db, const User& user, const audit::Actor& from, std::string_view user_agent);
  // After the first factor: a TOTP challenge when TOTP is on, else a session.
  LoginResult second_factor(store::Connection& db, const User& user, const audit::Actor& from,
                            std::string_view user_agent);
  std::int64_t queue_verification(store::Connection& db, const User& user);
  std::int64_t queue_reset(store::Connection& db, const User& user, const audit::Actor& from);

  store::Database& db_;
  const Access& access_;
  const identity::TotpStore& totp_;
  common::MailQueue& mail_;
  AccountSettings settings_;
  identity::PasswordLogin password_login_;
  identity::Deferred deferred_{"password resets"};  // last: stops (finishing its jobs) first
};

}  // namespace shardlyn
