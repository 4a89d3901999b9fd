#pragma once
// Sign-in and account security: bootstrap of the first admin, registration, password login
// with lockout, the TOTP challenge, refresh-token rotation, password changes and resets, MFA
// enrolment. Sessions, lockout, TOTP and mail tokens come from libs/identity.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "access.hpp"
#include "audit.hpp"
#include "common/mail.hpp"
#include "identity/lockout.hpp"
#include "identity/totp_store.hpp"
#include "store/database.hpp"
#include "users.hpp"

namespace shardlyn {

struct SignIn {
  AccessToken access;
  std::string refresh_token;
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
  std::string app_url = "http://localhost:3000";  // the web app; reset links point there
  identity::LockoutPolicy lockout;
};

class Accounts {
 public:
  Accounts(store::Database& db, const Access& access, const identity::TotpStore& totp, common::MailQueue& mail,
           AccountSettings settings);

  bool bootstrap_needed();
  // The first platform admin, with an organisation of their own; 409 once anyone exists.
  User bootstrap(std::string_view email, std::string_view password, std::string_view name, const audit::Actor& from);
  // A new account with an organisation of its own; 409 when the address is taken.
  User register_account(std::string_view email, std::string_view password, std::string_view name,
                        const audit::Actor& from);

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
  // Signs in an account found by other means (GitHub).
  SignIn open_session(const User& user, const audit::Actor& from, std::string_view user_agent);

  std::int64_t challenge_ttl() const { return settings_.challenge_ttl_s; }
  // Ends the caller's session (its refresh token stops working too).
  void logout(const Caller& caller);

  User me(std::string_view user_id);
  // 401 when the current password is wrong; ends every other session.
  void change_password(const Caller& caller, std::string_view current, std::string_view replacement);
  // Sets the password behind a reset token (400 for an unknown, used or expired token) and
  // ends every session.
  void reset_password(std::string_view token, std::string_view replacement, const audit::Actor& from);
  // Mails a reset link to the address when an account uses it (nothing happens otherwise, so
  // the answer does not tell whether the address is registered).
  void forgot_password(std::string_view email, const audit::Actor& from);

  identity::TotpStatus mfa_status(const Caller& caller);
  identity::TotpEnrolment mfa_enroll(const Caller& caller);
  // 400 when the code is wrong; 409 when there is nothing to confirm.
  void mfa_verify(const Caller& caller, std::string_view code);
  // 400 when the code is wrong; 409 when MFA is off.
  void mfa_disable(const Caller& caller, std::string_view code);

  // Deletes sessions that ended a week ago and spent or expired mail tokens.
  void purge_expired();

 private:
  SignIn start_session(store::Connection& db, const User& user, const audit::Actor& from, std::string_view user_agent);

  store::Database& db_;
  const Access& access_;
  const identity::TotpStore& totp_;
  common::MailQueue& mail_;
  AccountSettings settings_;
};

}  // namespace shardlyn
