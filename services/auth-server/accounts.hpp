#pragma once
// The account use cases behind /api/auth: registration, login with lockout, refresh-token
// rotation, sessions, password change and email verification. Each runs its writes in one
// transaction together with its audit entries. Failures are common::ApiError values.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mail.hpp"
#include "identity/deferred.hpp"
#include "identity/password_login.hpp"
#include "identity/sessions.hpp"
#include "settings.hpp"
#include "store/database.hpp"
#include "tokens.hpp"
#include "totp.hpp"
#include "users.hpp"

namespace auth {

// A signed-in session: the account, the session with its refresh token, the access token.
struct SignedIn {
  User user;
  identity::IssuedSession session;
  AccessToken access;
};

class Accounts {
 public:
  Accounts(store::Database& db, const Settings& settings, const AccessTokens& tokens, common::MailQueue& mail,
           const TwoFactor& two_factor);

  // Creates the account, signs it in and mails a verification link. For an email that is
  // already registered nothing changes, its owner gets a notice, and the result is empty. The
  // password is hashed either way, so both take the same time. Slow: call off the I/O threads.
  std::optional<SignedIn> register_account(const std::string& email, const std::string& name,
                                           const std::string& password, const identity::Client& client);

  // A second factor offered at login: a TOTP code or a backup code (at most one is used).
  struct SecondFactor {
    std::optional<std::string> totp_code;
    std::optional<std::string> backup_code;
  };

  // Checks the password (against a dummy hash for unknown emails: same time, same answer),
  // then, with two-factor on, the code. Empty when two-factor is on and no code was given.
  // 401 invalid_credentials or invalid_code (both count towards the lockout), 403
  // account_suspended. While the account is locked every attempt, even with the right password,
  // gets the wrong-password answer after the hash ran; the lock that starts is mailed to the owner.
  std::optional<SignedIn> login(const std::string& email, const std::string& password, const SecondFactor& factor,
                                const identity::Client& client);

  // Exchanges a refresh token for a new pair; 401 when unknown, expired or revoked. A token
  // that was already exchanged revokes its session.
  SignedIn refresh(const std::string& refresh_token, const identity::Client& client);

  void logout(const Principal& caller, const identity::Client& client);
  User me(const Principal& caller);

  // Fields of PATCH /api/auth/me; absent ones stay as they are.
  struct ProfileChange {
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::optional<std::string> current_password;  // needed to change the email address
  };
  // Renames, and/or moves the account to a new address: the password must be given (400
  // without, 401 invalid_credentials when wrong), the address must be free (409), it becomes
  // unverified and a verification mail goes to it, a notice to the old one. Slow.
  User update_profile(const Principal& caller, const ProfileChange& change, const identity::Client& client);
  // One page of the caller's live sessions, newest first, and how many there are.
  std::pair<std::vector<identity::Session>, std::int64_t> sessions(const Principal& caller, std::int64_t limit,
                                                                   std::int64_t offset);
  // 404 unless it is a live session of the caller.
  void revoke_session(const Principal& caller, const std::string& session_id, const identity::Client& client);
  // 401 invalid_credentials when current is wrong; ends every other session. Slow.
  void change_password(const Principal& caller, const std::string& current, const std::string& replacement,
                       const identity::Client& client);
  // 400 invalid_token when unknown, used or expired.
  void verify_email(const std::string& token, const identity::Client& client);
  // Records the request (durably) and answers; looking the address up and mailing a one-hour,
  // single-use reset link when it belongs to an account run after the answer (deferred_), so
  // the answer does the same work in the same time whether the address has an account or not.
  void forgot_password(const std::string& email, const identity::Client& client);
  // Handles the recorded reset requests: after each request, at start (those a crash left) and
  // periodically (those a failed run left).
  void process_reset_requests();
  // Sets the password with a reset token, ends every session and lifts a lockout; 400
  // invalid_token when unknown, used or expired. Slow.
  void reset_password(const std::string& token, const std::string& password, const identity::Client& client);

  // Housekeeping: deletes sessions ended more than AUTH_SESSION_RETENTION_DAYS ago and mail
  // tokens spent or expired more than a day ago.
  void purge_expired();

 private:
  SignedIn sign_in(store::Connection& c, const User& user, const identity::Client& client);
  static identity::LoginAccount login_account(const User& user);
  // This service's audit entries and lock mail for the library's login policy.
  identity::LoginHooks login_hooks();
  // A failed sign-in proof and, when it started a lock, the lock.
  static void audit_failure(store::Connection& c, std::string_view user_id, std::string_view ip,
                            std::string_view action, std::string_view reason, std::int64_t locked_until);
  // Queues the verification mail in the caller's transaction; returns its queue id.
  std::int64_t mail_verification(store::Connection& c, const User& user, const std::string& token);
  std::int64_t queue_reset(store::Connection& c, const User& user, std::string_view ip);

  store::Database& db_;
  const Settings& settings_;
  const AccessTokens& tokens_;
  common::MailQueue& mail_;
  const TwoFactor& two_factor_;
  identity::PasswordLogin password_login_;
  identity::Deferred deferred_{"password resets"};  // last: stops (finishing its jobs) first
};

}  // namespace auth
