#include "accounts.hpp"

#include "audit.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "identity/mail_tokens.hpp"
#include "identity/reset_requests.hpp"
#include "security/password.hpp"
#include "store/time.hpp"

namespace auth {

namespace {

// Wrong password and unknown email share this answer exactly.
// Reset requests handled per transaction; a burst beyond it is handled by the next run.
constexpr int kResetBatch = 100;

common::ApiError invalid_credentials() { return {401, "invalid email or password", "invalid_credentials"}; }

// Queues a mail about an account, marked with its id so that erasing the account finds it
// whatever address it went to.
std::int64_t queue_mail(store::Connection& c, std::string_view user_id, const common::Mail& mail) {
  std::int64_t id = common::MailQueue::enqueue(c, mail);
  if (!user_id.empty()) c.execute("UPDATE mail_queue SET user_id = ? WHERE id = ?", user_id, id);
  return id;
}

}  // namespace

Accounts::Accounts(store::Database& db, const Settings& settings, const AccessTokens& tokens, common::MailQueue& mail,
                   const TwoFactor& two_factor)
    : db_(db),
      settings_(settings),
      tokens_(tokens),
      mail_(mail),
      two_factor_(two_factor),
      password_login_(db, mail, {settings.lockout_threshold, settings.lockout_base_s, settings.lockout_max_s},
                      login_hooks()) {
  // Requests acknowledged before a crash or a stop are handled now.
  deferred_.post([this] { process_reset_requests(); });
}

SignedIn Accounts::sign_in(store::Connection& c, const User& user, const identity::Client& client) {
  SignedIn out{user, identity::sessions::create(c, user.id, client.ip, client.user_agent, settings_.session_ttl_s), {}};
  out.access = tokens_.issue(user, out.session.session.id);
  return out;
}

std::int64_t Accounts::mail_verification(store::Connection& c, const User& user, const std::string& token) {
  return queue_mail(
      c, user.id,
      {user.email, "Verify your Panguard email address",
       "Hello " + user.name + ",\n\nplease confirm your email address by opening this link:\n\n" + settings_.base_url +
           "/verify-email?token=" + token + "\n\nor by entering this code: " + token +
           "\n\nThe link is valid for 24 hours. If you did not create a Panguard account, ignore this mail.\n",
       "verify-email"});
}

std::optional<SignedIn> Accounts::register_account(const std::string& email, const std::string& name,
                                                   const std::string& password, const identity::Client& client) {
  std::int64_t now = store::unix_now();
  User user;
  user.id = users::new_id();
  user.email = email;
  user.name = name;
  user.password_hash = security::password_hash(password);
  user.created_at = user.updated_at = now;
  std::int64_t mail = 0;
  auto signed_in = db_.write([&](store::Connection& c) -> std::optional<SignedIn> {
    if (!users::insert(c, user)) {
      auto owner = users::by_email(c, email);
      mail = queue_mail(
          c, owner ? owner->id : std::string(),
          {email, "Sign-up attempt for your Panguard account",
           "Hello,\n\nsomeone tried to create a Panguard account with this email address, which already has "
           "one. Nothing was changed.\n\nIf this was you, sign in instead or reset your password. If not, you "
           "can ignore this mail.\n",
           "account-exists"});
      return std::nullopt;
    }
    auto verify_token = identity::mail_tokens::create(c, user.id, kVerifyEmail, settings_.verify_email_ttl_s);
    audit::record(c, audit::kRegistered, user.id, client.ip);
    mail = mail_verification(c, user, verify_token);
    return sign_in(c, user, client);
  });
  mail_.send_now({mail});
  return signed_in;
}

identity::LoginAccount Accounts::login_account(const User& user) {
  return {user.id, user.email, user.name, user.password_hash, user.suspended, user.locked_until};
}

identity::LoginHooks Accounts::login_hooks() {
  identity::LoginHooks hooks;
  hooks.audit = [](store::Connection& c, const identity::LoginEvent& e) {
    if (e.name == identity::kLoginUnknownAddress)
      audit::record(c, audit::kLoginFailed, "", e.client.ip, {{"reason", "unknown email"}});
    else if (e.name == identity::kLoginWhileLocked)
      audit::record(c, audit::kLoginWhileLocked, e.user_id, e.client.ip);
    else if (e.name == identity::kLoginSuspended)
      audit::record(c, audit::kLoginSuspended, e.user_id, e.client.ip);
    else if (e.name == identity::kLoginWrongPassword)
      audit_failure(c, e.user_id, e.client.ip, audit::kLoginFailed, "wrong password",
                    e.details.at("lockedUntil").as_int64());
  };
  hooks.lock_mail = [this](const identity::LoginAccount& a, const identity::Failure& f) {
    return common::Mail{
        a.email, "Your Panguard account was locked",
        "Hello " + a.name + ",\n\nyour Panguard account was locked after " + std::to_string(f.failures) +
            " failed sign-ins until " + common::rfc3339_from_unix(f.locked_until) +
            ". Until then every sign-in is refused, even with the right password.\n\nIf this was not you, "
            "reset your password with \"Forgot password?\" on the sign-in page at " +
            settings_.base_url + ".\n",
        "account-locked"};
  };
  return hooks;
}

void Accounts::audit_failure(store::Connection& c, std::string_view user_id, std::string_view ip,
                             std::string_view action, std::string_view reason, std::int64_t locked_until) {
  audit::record(c, action, user_id, ip, {{"reason", reason}});
  if (locked_until) audit::record(c, audit::kAccountLocked, user_id, ip, {{"lockedUntil", locked_until}});
}

std::optional<SignedIn> Accounts::login(const std::string& email, const std::string& password,
                                        const SecondFactor& factor, const identity::Client& client) {
  auto user = db_.read([&](store::Connection& c) { return users::by_email(c, email); });
  auto verdict =
      password_login_.check(user ? std::optional(login_account(*user)) : std::nullopt, email, password, client);
  if (verdict.outcome == identity::PasswordLogin::Outcome::Refused) throw invalid_credentials();
  if (verdict.outcome == identity::PasswordLogin::Outcome::Suspended)
    throw common::ApiError(403, "account suspended", "account_suspended");
  bool two_factor = db_.read([&](store::Connection& c) { return two_factor_.enabled(c, user->id); });
  if (two_factor && !factor.totp_code && !factor.backup_code) return std::nullopt;
  std::int64_t lock_mail = 0;
  auto signed_in = db_.write([&](store::Connection& c) -> std::optional<SignedIn> {
    if (two_factor) {
      bool passed = factor.totp_code ? two_factor_.use_code(c, user->id, *factor.totp_code)
                                     : two_factor_.use_backup_code(c, user->id, *factor.backup_code);
      if (!passed) {
        // A wrong code counts towards the lockout like a wrong password.
        auto failure = password_login_.count_failure(c, login_account(*user));
        audit_failure(c, user->id, client.ip, audit::kLoginWrongCode,
                      factor.totp_code ? "wrong TOTP code" : "wrong backup code", failure.locked_until);
        lock_mail = failure.mail;
        return std::nullopt;
      }
      if (!factor.totp_code) audit::record(c, audit::kBackupCodeUsed, user->id, client.ip);
    }
    identity::PasswordLogin::succeeded(c, user->id);
    audit::record(c, audit::kLoginSucceeded, user->id, client.ip, {{"twoFactor", two_factor}});
    return sign_in(c, *user, client);
  });
  if (!signed_in) {
    password_login_.send(lock_mail);
    throw common::ApiError(401, "invalid two-factor code", "invalid_code");
  }
  if (verdict.upgraded_hash)
    db_.write([&](store::Connection& c) {
      users::upgrade_password_hash(c, user->id, user->password_hash, *verdict.upgraded_hash);
    });
  return signed_in;
}

SignedIn Accounts::refresh(const std::string& refresh_token, const identity::Client& client) {
  auto result = db_.write([&](store::Connection& c) -> std::optional<SignedIn> {
    identity::Rotation r = identity::sessions::rotate(c, refresh_token, client.ip);
    if (r.outcome == identity::Rotation::Outcome::Reused) {
      audit::record(c, audit::kRefreshReuse, r.user_id, client.ip, {{"sessionId", r.session_id}});
      return std::nullopt;
    }
    if (r.outcome != identity::Rotation::Outcome::Rotated) return std::nullopt;
    auto user = users::by_id(c, r.user_id);
    if (!user || user->suspended) return std::nullopt;
    return SignedIn{*user, std::move(r.issued), tokens_.issue(*user, r.session_id)};
  });
  if (!result) throw common::ApiError(401, "invalid or expired refresh token", "invalid_token");
  return std::move(*result);
}

void Accounts::logout(const Principal& caller, const identity::Client& client) {
  db_.write([&](store::Connection& c) {
    identity::sessions::revoke(c, caller.session_id, "logout");
    audit::record(c, audit::kLogout, caller.user_id, client.ip, {{"sessionId", caller.session_id}});
  });
}

User Accounts::me(const Principal& caller) {
  auto user = db_.read([&](store::Connection& c) { return users::by_id(c, caller.user_id); });
  if (!user) throw common::ApiError::unauthorized("account no longer exists");
  return *user;
}

User Accounts::update_profile(const Principal& caller, const ProfileChange& change, const identity::Client& client) {
  User before = me(caller);
  bool new_email = change.email && *change.email != before.email;
  if (new_email) {
    if (!change.current_password)
      throw common::ApiError::validation("'currentPassword' is required to change the email address");
    if (!security::password_verify(*change.current_password, before.password_hash))
      throw common::ApiError(401, "current password is incorrect", "invalid_credentials");
  }
  std::vector<std::int64_t> mails;
  User after = db_.write([&](store::Connection& c) {
    if (change.name && *change.name != before.name) {
      users::set_name(c, caller.user_id, *change.name);
      audit::record(c, audit::kNameChanged, caller.user_id, client.ip);
    }
    std::string verify_token;
    if (new_email) {
      if (users::by_email(c, *change.email)) throw common::ApiError::conflict("email address already in use");
      users::set_email(c, caller.user_id, *change.email);
      identity::mail_tokens::spend_all(c, caller.user_id, kVerifyEmail);
      // Reset links went to the old address: they must not outlive the change.
      identity::mail_tokens::spend_all(c, caller.user_id, kResetPassword);
      verify_token = identity::mail_tokens::create(c, caller.user_id, kVerifyEmail, settings_.verify_email_ttl_s);
      audit::record(c, audit::kEmailChanged, caller.user_id, client.ip);
    }
    auto user = users::by_id(c, caller.user_id);
    if (!user) throw common::ApiError::unauthorized("account no longer exists");
    if (new_email) {
      mails.push_back(mail_verification(c, *user, verify_token));
      mails.push_back(
          queue_mail(c, caller.user_id,
                     {before.email, "Your Panguard email address was changed",
                      "Hello " + user->name + ",\n\nthe email address of your Panguard account was changed to " +
                          user->email + ". If you did not do this, reset your password and contact support.\n",
                      "email-changed"}));
    }
    return *user;
  });
  mail_.send_now(mails);
  return after;
}

std::pair<std::vector<identity::Session>, std::int64_t> Accounts::sessions(const Principal& caller, std::int64_t limit,
                                                                           std::int64_t offset) {
  return db_.read([&](store::Connection& c) {
    return identity::sessions::all_live(c, std::optional<std::string>(caller.user_id), limit, offset);
  });
}

void Accounts::revoke_session(const Principal& caller, const std::string& session_id, const identity::Client& client) {
  bool revoked = db_.write([&](store::Connection& c) {
    if (!identity::sessions::live(c, session_id, caller.user_id)) return false;
    identity::sessions::revoke(c, session_id, "revoked by user");
    audit::record(c, audit::kSessionRevoked, caller.user_id, client.ip, {{"sessionId", session_id}});
    return true;
  });
  if (!revoked) throw common::ApiError::not_found("no such session");
}

void Accounts::change_password(const Principal& caller, const std::string& current, const std::string& replacement,
                               const identity::Client& client) {
  User user = me(caller);
  if (!security::password_verify(current, user.password_hash))
    throw common::ApiError(401, "current password is incorrect", "invalid_credentials");
  std::string hash = security::password_hash(replacement);
  db_.write([&](store::Connection& c) {
    users::set_password(c, user.id, hash);
    int ended = identity::sessions::revoke_all(c, user.id, caller.session_id, "password changed");
    audit::record(c, audit::kPasswordChanged, user.id, client.ip, {{"sessionsEnded", ended}});
  });
}

void Accounts::verify_email(const std::string& token, const identity::Client& client) {
  bool ok = db_.write([&](store::Connection& c) {
    auto user_id = identity::mail_tokens::consume(c, token, kVerifyEmail);
    if (!user_id) return false;
    users::set_email_verified(c, *user_id);
    audit::record(c, audit::kEmailVerified, *user_id, client.ip);
    return true;
  });
  if (!ok) throw common::ApiError(400, "invalid or expired verification token", "invalid_token");
}

void Accounts::purge_expired() {
  std::int64_t now = store::unix_now();
  auto purged = db_.write([&](store::Connection& c) {
    return std::pair{identity::sessions::purge_ended(c, now - settings_.session_retention_s),
                     identity::mail_tokens::purge(c, now - 86400)};
  });
  if (purged.first || purged.second)
    common::log::info("purged expired records", {{"sessions", purged.first}, {"mail_tokens", purged.second}});
}

void Accounts::forgot_password(const std::string& email, const identity::Client& client) {
  // The same insert and commit for every address: nothing that depends on the address having an
  // account runs before the answer, or the time taken would tell accounts apart. The commit
  // makes the request outlive a crash (process_reset_requests runs again at start).
  db_.write([&](store::Connection& c) { identity::reset_requests::record(c, email, client.ip); });
  deferred_.post([this] { process_reset_requests(); });
}

void Accounts::process_reset_requests() {
  std::vector<std::int64_t> mails;
  std::size_t handled = db_.write([&](store::Connection& c) {
    auto requests = identity::reset_requests::take(c, kResetBatch);
    for (const auto& r : requests) {
      auto user = users::by_email(c, r.email);
      if (user) mails.push_back(queue_reset(c, *user, r.ip));
    }
    return requests.size();
  });
  if (handled == 0) return;
  common::log::info("password reset requests handled", {{"requests", handled}, {"mailed", mails.size()}});
  mail_.send_now(mails);
}

std::int64_t Accounts::queue_reset(store::Connection& c, const User& user, std::string_view ip) {
  auto token = identity::mail_tokens::create(c, user.id, kResetPassword, settings_.reset_ttl_s);
  audit::record(c, audit::kPasswordResetRequested, user.id, ip);
  return queue_mail(
      c, user.id,
      {user.email, "Reset your Panguard password",
       "Hello " + user.name +
           ",\n\nsomeone (hopefully you) asked to reset the password of your Panguard account. Open this link "
           "to choose a new one:\n\n" +
           settings_.base_url + "/reset-password?token=" + token + "\n\nor enter this code: " + token +
           "\n\nThe link is valid for one hour and works once. If you did not ask for this, ignore this mail; "
           "your password stays as it is.\n",
       "reset-password"});
}

void Accounts::reset_password(const std::string& token, const std::string& password, const identity::Client& client) {
  std::string hash = security::password_hash(password);
  bool ok = db_.write([&](store::Connection& c) {
    auto user_id = identity::mail_tokens::consume(c, token, kResetPassword);
    if (!user_id) return false;
    users::set_password(c, *user_id, hash);
    identity::PasswordLogin::succeeded(c, *user_id);
    identity::mail_tokens::spend_all(c, *user_id, kResetPassword);
    int ended = identity::sessions::revoke_all(c, *user_id, "", "password reset");
    audit::record(c, audit::kPasswordReset, *user_id, client.ip, {{"sessionsEnded", ended}});
    return true;
  });
  if (!ok) throw common::ApiError(400, "invalid or expired reset token", "invalid_token");
}

}  // namespace auth
