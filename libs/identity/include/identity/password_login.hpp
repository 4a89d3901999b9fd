#pragma once
// The password step of signing in, the same in every service that has accounts: one hash per
// attempt (a dummy one for unknown addresses), a locked account answering exactly like a wrong
// password, failures counted towards the lockout, the lock mailed to the owner, the suspension
// check and the upgrade of outdated hashes. The service reads the account from its own table,
// turns the verdict into its own answer, and keeps its own audit trail and mail text (hooks).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/mail.hpp"
#include "identity/lockout.hpp"
#include "identity/sessions.hpp"
#include "store/database.hpp"

namespace identity {

// The account as the policy needs it, read by the service from its `users` table.
struct LoginAccount {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;  // empty: the account signs in another way only
  bool suspended = false;
  std::int64_t locked_until = 0;
};

// What the policy reports to the service's audit trail: one shape for every event, written in
// the transaction of the change it reports.
struct LoginEvent {
  std::string_view name;     // one of the kLogin* names below
  std::string_view user_id;  // empty: no account has the address
  const Client& client;
  boost::json::object details;
};

inline constexpr std::string_view kLoginUnknownAddress = "login.unknown_address";  // details: email
inline constexpr std::string_view kLoginWhileLocked = "login.while_locked";
// details: failures, lockedUntil (0: no lock started)
inline constexpr std::string_view kLoginWrongPassword = "login.wrong_password";
inline constexpr std::string_view kLoginSuspended = "login.suspended";

// A counted failure: the consecutive failures, the end of a lock it started (0: none) and the
// queued lock mail (0: none), to be sent after the commit.
struct Failure {
  std::int64_t failures = 0;
  std::int64_t locked_until = 0;
  std::int64_t mail = 0;
};

struct LoginHooks {
  std::function<void(store::Connection&, const LoginEvent&)> audit;
  // The mail telling the owner of the lock that `failure` started.
  std::function<common::Mail(const LoginAccount&, const Failure& failure)> lock_mail;
};

class PasswordLogin {
 public:
  PasswordLogin(store::Database& db, common::MailQueue& mail, LockoutPolicy policy, LoginHooks hooks);

  enum class Outcome {
    Accepted,   // the password is right: go on with the second factor, if any
    Refused,    // unknown address, wrong password or locked: one answer for all three
    Suspended,  // right password, suspended account
  };
  struct Verdict {
    Outcome outcome = Outcome::Refused;
    std::optional<std::string> upgraded_hash;  // Accepted with an outdated hash: store this one
  };

  // `account` is the service's lookup of `email` (empty: none). Slow (one password hash, two
  // when the stored one is upgraded): call off the I/O threads.
  Verdict check(const std::optional<LoginAccount>& account, std::string_view email, std::string_view password,
                const Client& client);

  // Counts a failure of another proof (a second factor) in the caller's transaction; a lock it
  // starts is queued as mail. The caller audits it and sends the mail after the commit.
  Failure count_failure(store::Connection& c, const LoginAccount& account);
  // Sends a queued lock mail (0: nothing to send).
  void send(std::int64_t mail);
  // A completed sign-in clears the failure counter and any lock.
  static void succeeded(store::Connection& c, std::string_view user_id);

 private:
  store::Database& db_;
  common::MailQueue& mail_;
  LockoutPolicy policy_;
  LoginHooks hooks_;
};

}  // namespace identity
