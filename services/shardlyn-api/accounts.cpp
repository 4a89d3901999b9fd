#include "accounts.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "identity/mail_tokens.hpp"
#include "identity/sessions.hpp"
#include "organizations.hpp"
#include "security/password.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

constexpr std::string_view kResetPurpose = "reset_password";
constexpr std::string_view kChallengeType = "mfa_challenge";

common::ApiError bad_credentials() { return common::ApiError::unauthorized("invalid email or password"); }

// Counts a failed password or code towards the account's lockout with its audit entry; a lock
// it starts is queued as a mail to the owner (returned: the queue id, 0 for none).
std::int64_t count_failure(store::Connection& db, const User& user, std::int64_t now, const AccountSettings& settings,
                           const audit::Actor& from, std::string_view action) {
  std::int64_t locked_until = identity::lockout::record_failure(db, user.id, now, settings.lockout);
  audit::record(db, locked_until ? "auth.account_locked" : action, from, {}, user.id);
  if (!locked_until) return 0;
  std::int64_t failures = db.query_int("SELECT failed_logins FROM users WHERE id = ?", user.id).value_or(0);
  std::string body = "Hello " + user.name + ",\n\nyour Shardlyn account was locked after " + std::to_string(failures) +
                     " failed sign-ins until " + common::rfc3339_from_unix(locked_until) +
                     ". Until then every sign-in is refused, even with the right password.\n\nIf this was not "
                     "you, reset your password with \"Forgot password\" in the web app at " +
                     settings.app_url + " (or POST /v1/auth/forgot-password).\n";
  return common::MailQueue::enqueue(db, {user.email, "Your Shardlyn account was locked", body, "account-locked"});
}

audit::Actor as(const audit::Actor& from, std::string_view user_id) {
  return {std::string(user_id), from.token_id, from.ip};
}

audit::Actor actor_of(const Caller& c) { return {c.user_id, c.token_id, c.ip}; }

// A new account and its own organisation, in one transaction.
User create_with_org(store::Connection& db, std::string_view email, std::string_view name, const std::string& hash,
                     bool admin, const audit::Actor& from, std::string_view action) {
  auto user = users::create(db, email, name, hash, admin);
  if (!user) throw common::ApiError::conflict("an account with this email address already exists");
  auto org = organizations::create(db, std::string(name) + "'s organization", user->id);
  audit::record(db, action, as(from, user->id), org.id, user->id);
  return *user;
}

}  // namespace

Accounts::Accounts(store::Database& db, const Access& access, const identity::TotpStore& totp, common::MailQueue& mail,
                   AccountSettings settings)
    : db_(db), access_(access), totp_(totp), mail_(mail), settings_(std::move(settings)) {}

bool Accounts::bootstrap_needed() {
  return db_.read([](store::Connection& db) { return users::count(db) == 0; });
}

User Accounts::bootstrap(std::string_view email, std::string_view password, std::string_view name,
                         const audit::Actor& from) {
  std::string hash = security::password_hash(password);
  return db_.write([&](store::Connection& db) {
    if (users::count(db) != 0) throw common::ApiError::conflict("the platform is already set up");
    return create_with_org(db, email, name, hash, true, from, "auth.bootstrap");
  });
}

User Accounts::register_account(std::string_view email, std::string_view password, std::string_view name,
                                const audit::Actor& from) {
  std::string hash = security::password_hash(password);
  return db_.write(
      [&](store::Connection& db) { return create_with_org(db, email, name, hash, false, from, "auth.register"); });
}

SignIn Accounts::start_session(store::Connection& db, const User& user, const audit::Actor& from,
                               std::string_view user_agent) {
  auto issued = identity::sessions::create(db, user.id, from.ip, user_agent, settings_.refresh_ttl_s);
  audit::record(db, "auth.login", as(from, user.id), {}, user.id);
  return {access_.issue(user.id, issued.session.id), issued.refresh_token};
}

LoginResult Accounts::login(std::string_view email, std::string_view password, const audit::Actor& from,
                            std::string_view user_agent) {
  auto user = db_.read([&](store::Connection& db) { return users::find_by_email(db, email); });
  std::int64_t now = store::unix_now();
  // Every attempt runs one hash (a dummy one for unknown addresses and accounts without a
  // password), so that the time taken tells nothing either.
  bool has_password = user && !user->password_hash.empty();
  bool ok = security::password_verify(password, has_password ? user->password_hash : security::password_dummy_hash()) &&
            has_password;
  if (!user) {
    db_.write([&](store::Connection& db) {
      audit::record(db, "auth.login_failed", from, {}, {}, {{"email", email}, {"reason", "unknown address"}});
    });
    throw bad_credentials();
  }
  // A locked account answers exactly like a wrong password, even to the right one, so that the
  // lock does not tell which addresses have an account; its owner learned of it by mail.
  if (user->locked_until > now) {
    db_.write([&](store::Connection& db) { audit::record(db, "auth.login_locked", as(from, user->id), {}, user->id); });
    throw bad_credentials();
  }
  if (!ok) {
    std::int64_t mail = db_.write(
        [&](store::Connection& db) { return count_failure(db, *user, now, settings_, from, "auth.login_failed"); });
    if (mail) mail_.send_now({mail});
    throw bad_credentials();
  }
  if (user->suspended) throw common::ApiError(403, "account suspended");
  // Hashes made with weaker parameters than today's are upgraded while the password is at hand.
  std::optional<std::string> upgraded;
  if (security::password_needs_rehash(user->password_hash)) upgraded = security::password_hash(password);
  return db_.write([&](store::Connection& db) {
    if (upgraded) users::replace_password_hash(db, user->id, user->password_hash, *upgraded);
    LoginResult out;
    if (totp_.enabled(db, user->id)) {
      // The failure counter is cleared only once the second factor is in too.
      out.challenge_token = access_.sign(kChallengeType, user->id, settings_.challenge_ttl_s);
      audit::record(db, "auth.mfa_challenged", as(from, user->id), {}, user->id);
    } else {
      identity::lockout::clear(db, user->id);
      out.tokens = start_session(db, *user, from, user_agent);
    }
    return out;
  });
}

SignIn Accounts::complete_challenge(std::string_view challenge_token, std::string_view code, const audit::Actor& from,
                                    std::string_view user_agent) {
  auto challenge = access_.verify_signed(kChallengeType, challenge_token);
  if (!challenge || challenge->id.empty()) throw common::ApiError::unauthorized("invalid or expired challenge token");
  bool accepted = false;
  std::int64_t now = store::unix_now();
  std::int64_t mail = 0;
  auto result = db_.write([&](store::Connection& db) -> std::optional<SignIn> {
    if (db.query_int("SELECT 1 FROM used_challenges WHERE id = ?", challenge->id))
      throw common::ApiError::unauthorized("challenge token already used; sign in again");
    auto user = users::find(db, challenge->subject);
    if (!user) return std::nullopt;
    if (user->suspended) throw common::ApiError(403, "account suspended");
    if (user->locked_until > now)
      throw common::ApiError(429, "account locked after repeated failed attempts; try again later")
          .with_header("Retry-After", std::to_string(user->locked_until - now));
    if (!totp_.use_any(db, user->id, code)) {
      // Wrong codes count towards the account's lockout like wrong passwords.
      mail = count_failure(db, *user, now, settings_, as(from, user->id), "auth.mfa_failed");
      return std::nullopt;
    }
    accepted = true;
    db.execute("INSERT INTO used_challenges (id, expires_at) VALUES (?, ?)", challenge->id, challenge->expires_at);
    identity::lockout::clear(db, user->id);
    return start_session(db, *user, from, user_agent);
  });
  if (mail) mail_.send_now({mail});
  if (!result) throw common::ApiError::unauthorized(accepted ? "account not found" : "invalid code");
  return *result;
}

SignIn Accounts::refresh(std::string_view refresh_token, const audit::Actor& from) {
  auto outcome = db_.write([&](store::Connection& db) -> std::optional<SignIn> {
    auto r = identity::sessions::rotate(db, refresh_token, from.ip);
    if (r.outcome == identity::Rotation::Outcome::Reused) {
      audit::record(db, "auth.refresh_reuse", as(from, r.user_id), {}, r.user_id, {{"session_id", r.session_id}});
      return std::nullopt;
    }
    if (r.outcome != identity::Rotation::Outcome::Rotated) return std::nullopt;
    auto user = users::find(db, r.user_id);
    if (!user || user->suspended) return std::nullopt;
    return SignIn{access_.issue(r.user_id, r.issued.session.id), r.issued.refresh_token};
  });
  if (!outcome) throw common::ApiError::unauthorized("invalid or expired refresh token");
  return *outcome;
}

SignIn Accounts::open_session(const User& user, const audit::Actor& from, std::string_view user_agent) {
  if (user.suspended) throw common::ApiError(403, "account suspended");
  return db_.write([&](store::Connection& db) { return start_session(db, user, from, user_agent); });
}

void Accounts::logout(const Caller& caller) {
  db_.write([&](store::Connection& db) {
    identity::sessions::revoke(db, caller.session_id, "logout");
    audit::record(db, "auth.logout", actor_of(caller), {}, caller.user_id);
  });
}

User Accounts::me(std::string_view user_id) {
  auto user = db_.read([&](store::Connection& db) { return users::find(db, user_id); });
  if (!user) throw common::ApiError::not_found("user not found");
  return *user;
}

void Accounts::change_password(const Caller& caller, std::string_view current, std::string_view replacement) {
  User user = me(caller.user_id);
  if (user.password_hash.empty() || !security::password_verify(current, user.password_hash))
    throw common::ApiError::unauthorized("current password is wrong");
  std::string hash = security::password_hash(replacement);
  db_.write([&](store::Connection& db) {
    users::set_password(db, user.id, hash);
    identity::sessions::revoke_all(db, user.id, caller.session_id, "password changed");
    audit::record(db, "user.password_changed", actor_of(caller), {}, user.id);
  });
}

void Accounts::forgot_password(std::string_view email, const audit::Actor& from) {
  auto queued = db_.write([&](store::Connection& db) -> std::optional<std::int64_t> {
    auto user = users::find_by_email(db, email);
    if (!user) return std::nullopt;
    std::string token = identity::mail_tokens::create(db, user->id, kResetPurpose, settings_.reset_ttl_s);
    audit::record(db, "auth.password_reset_requested", as(from, user->id), {}, user->id);
    std::string body = "Hello " + user->name +
                       ",\n\nsomeone asked to reset the password of your Shardlyn account. To choose a new one, "
                       "open\n\n  " +
                       settings_.app_url + "/reset-password?token=" + token +
                       "\n\nor send this token to POST /v1/auth/reset-password:\n\n  " + token +
                       "\n\nThe link works once, for " + std::to_string(settings_.reset_ttl_s / 60) +
                       " minutes. If you did not ask for it, ignore this mail.\n";
    return common::MailQueue::enqueue(db, {user->email, "Reset your Shardlyn password", body, "reset-password"});
  });
  if (queued) mail_.send_now({*queued});
}

void Accounts::reset_password(std::string_view token, std::string_view replacement, const audit::Actor& from) {
  std::string hash = security::password_hash(replacement);
  db_.write([&](store::Connection& db) {
    auto user_id = identity::mail_tokens::consume(db, token, kResetPurpose);
    if (!user_id) throw common::ApiError::bad_request("reset token is invalid, used or expired");
    users::set_password(db, *user_id, hash);
    identity::mail_tokens::spend_all(db, *user_id, kResetPurpose);
    identity::lockout::clear(db, *user_id);
    identity::sessions::revoke_all(db, *user_id, {}, "password reset");
    audit::record(db, "auth.password_reset", as(from, *user_id), {}, *user_id);
  });
}

identity::TotpStatus Accounts::mfa_status(const Caller& caller) {
  return db_.read([&](store::Connection& db) { return totp_.status(db, caller.user_id); });
}

identity::TotpEnrolment Accounts::mfa_enroll(const Caller& caller) {
  return db_.write([&](store::Connection& db) {
    auto enrolment = totp_.begin(db, caller.user_id, caller.email);
    audit::record(db, "mfa.enroll_started", actor_of(caller), {}, caller.user_id);
    return enrolment;
  });
}

void Accounts::mfa_verify(const Caller& caller, std::string_view code) {
  db_.write([&](store::Connection& db) {
    if (!totp_.confirm(db, caller.user_id, code)) throw common::ApiError::validation("'code' is not valid");
    audit::record(db, "mfa.enabled", actor_of(caller), {}, caller.user_id);
  });
}

void Accounts::mfa_disable(const Caller& caller, std::string_view code) {
  db_.write([&](store::Connection& db) {
    if (!totp_.enabled(db, caller.user_id)) throw common::ApiError::conflict("MFA is not enabled");
    if (!totp_.use_any(db, caller.user_id, code)) throw common::ApiError::validation("'code' is not valid");
    totp_.remove(db, caller.user_id);
    audit::record(db, "mfa.disabled", actor_of(caller), {}, caller.user_id);
  });
}

void Accounts::purge_expired() {
  std::int64_t now = store::unix_now();
  db_.write([&](store::Connection& db) {
    identity::sessions::purge_ended(db, now - 7 * 86400);
    identity::mail_tokens::purge(db, now);
    db.execute("DELETE FROM used_challenges WHERE expires_at < ?", now - security::JwtCodec::kDefaultLeeway.count());
  });
}

}  // namespace shardlyn
