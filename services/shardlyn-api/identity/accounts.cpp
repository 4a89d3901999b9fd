#include "identity/accounts.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "identity/mail_tokens.hpp"
#include "identity/reset_requests.hpp"
#include "identity/sessions.hpp"
#include "orgs/organizations.hpp"
#include "security/password.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace {

constexpr std::string_view kResetPurpose = "reset_password";
constexpr std::string_view kVerifyPurpose = "verify_email";
constexpr std::string_view kChallengeType = "mfa_challenge";
constexpr std::string_view kLinkType = "github_link";

common::ApiError bad_credentials() { return common::ApiError::unauthorized("invalid email or password"); }
// The one answer to a wrong, expired or reused TOTP or backup code, on every route taking one.
common::ApiError invalid_code() { return common::ApiError::unauthorized("invalid code: wrong, expired or already used"); }

// Single-use signed tokens (MFA challenges, GitHub links): false when the id was spent before.
bool spend_once(store::Connection& db, const Access::Signed& token) {
  if (db.query_int("SELECT 1 FROM used_challenges WHERE id = ?", token.id)) return false;
  db.execute("INSERT INTO used_challenges (id, expires_at) VALUES (?, ?)", token.id, token.expires_at);
  return true;
}

identity::LoginAccount login_account(const User& user) {
  return {user.id, user.email, user.name, user.password_hash, user.suspended, user.locked_until};
}

// Counts a failed password or code towards the account's lockout with its audit entry; a lock
// it starts is queued as a mail to the owner (returned: the queue id, 0 for none).
std::int64_t count_failure(identity::PasswordLogin& login, store::Connection& db, const User& user,
                           const audit::Actor& from, std::string_view action) {
  auto failure = login.count_failure(db, login_account(user));
  audit::record(db, failure.locked_until ? "auth.account_locked" : action, from, {}, user.id);
  return failure.mail;
}

// This service's audit entries and lock mail for the library's login policy.
identity::LoginHooks login_hooks(const AccountSettings& settings) {
  identity::LoginHooks hooks;
  hooks.audit = [](store::Connection& db, const identity::LoginEvent& e) {
    audit::Actor anonymous{{}, {}, e.client.ip};
    if (e.name == identity::kLoginUnknownAddress)
      audit::record(db, "auth.login_failed", anonymous, {}, {},
                    {{"email", e.details.at("email")}, {"reason", "unknown address"}});
    else if (e.name == identity::kLoginWhileLocked)
      audit::record(db, "auth.login_locked", {std::string(e.user_id), {}, e.client.ip}, {}, e.user_id);
    else if (e.name == identity::kLoginWrongPassword)
      audit::record(db, e.details.at("lockedUntil").as_int64() ? "auth.account_locked" : "auth.login_failed", anonymous,
                    {}, e.user_id);
  };
  hooks.lock_mail = [app_url = settings.app_url](const identity::LoginAccount& a, const identity::Failure& f) {
    std::string body = "Hello " + a.name + ",\n\nyour Shardlyn account was locked after " + std::to_string(f.failures) +
                       " failed sign-ins until " + common::rfc3339_from_unix(f.locked_until) +
                       ". Until then every sign-in is refused, even with the right password.\n\nIf this was not "
                       "you, reset your password with \"Forgot password\" in the web app at " +
                       app_url + " (or POST /v1/auth/forgot-password).\n";
    return common::Mail{a.email, "Your Shardlyn account was locked", body, "account-locked"};
  };
  return hooks;
}

audit::Actor as(const audit::Actor& from, std::string_view user_id) {
  return {std::string(user_id), from.token_id, from.ip};
}

// What registering a taken address answers: the shape of a new account, naming none.
User unclaimed(std::string_view email, std::string_view name) {
  User u;
  u.id = security::uuid_v4();
  u.email = email;
  u.name = name;
  u.created_at = store::unix_now();
  return u;
}

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
    : db_(db),
      access_(access),
      totp_(totp),
      mail_(mail),
      settings_(std::move(settings)),
      password_login_(db, mail, settings_.lockout, login_hooks(settings_)) {}

bool Accounts::bootstrap_needed() {
  return db_.read([](store::Connection& db) { return users::count(db) == 0; });
}

User Accounts::bootstrap(std::string_view email, std::string_view password, std::string_view name,
                         const audit::Actor& from) {
  std::string hash = security::password_hash(password);
  return db_.write([&](store::Connection& db) {
    if (users::count(db) != 0) throw common::ApiError::conflict("the platform is already set up");
    auto admin = create_with_org(db, email, name, hash, true, from, "auth.bootstrap");
    users::mark_verified(db, admin.id);
    admin.email_verified = true;
    return admin;
  });
}

std::int64_t Accounts::queue_verification(store::Connection& db, const User& user) {
  std::string token = identity::mail_tokens::create(db, user.id, kVerifyPurpose, settings_.verify_ttl_s);
  std::string body = "Hello " + user.name + ",\n\nplease confirm that this address belongs to your Shardlyn account: open\n\n  " +
                     settings_.app_url + "/verify-email?token=" + token +
                     "\n\nor send this token to POST /v1/auth/verify-email:\n\n  " + token + "\n\nThe link works once, for " +
                     std::to_string(settings_.verify_ttl_s / 3600) +
                     " hours. If you did not create this account, ignore this mail: the address stays unconfirmed.\n";
  return common::MailQueue::enqueue(db, {user.email, "Confirm your Shardlyn address", body, "verify-email"});
}

User Accounts::register_account(std::string_view email, std::string_view password, std::string_view name,
                                const audit::Actor& from) {
  std::string hash = security::password_hash(password);
  User out;
  std::int64_t mail = db_.write([&](store::Connection& db) {
    if (auto existing = users::find_by_email(db, email)) {
      out = unclaimed(email, name);
      audit::record(db, "auth.register_taken", as(from, existing->id), {}, existing->id);
      std::string body = "Hello " + existing->name +
                         ",\n\nsomeone tried to create a Shardlyn account with this address, which already has "
                         "one. Nothing was changed. If it was you, sign in; if you forgot the password, reset it "
                         "(\"Forgot password\" in the web app, or POST /v1/auth/forgot-password).\n";
      return common::MailQueue::enqueue(db, {existing->email, "Your Shardlyn account", body, "register-existing"});
    }
    out = create_with_org(db, email, name, hash, false, from, "auth.register");
    return queue_verification(db, out);
  });
  mail_.send_now({mail});
  return out;
}

void Accounts::verify_email(std::string_view token, const audit::Actor& from) {
  db_.write([&](store::Connection& db) {
    auto user_id = identity::mail_tokens::consume(db, token, kVerifyPurpose);
    if (!user_id) throw common::ApiError::bad_request("verification token is invalid, used or expired");
    users::mark_verified(db, *user_id);
    identity::mail_tokens::spend_all(db, *user_id, kVerifyPurpose);
    audit::record(db, "auth.email_verified", as(from, *user_id), {}, *user_id);
  });
}

void Accounts::resend_verification(const Caller& caller) {
  std::int64_t mail = db_.write([&](store::Connection& db) {
    auto user = users::find(db, caller.user_id);
    if (!user) throw common::ApiError::not_found("user not found");
    if (user->email_verified) throw common::ApiError::conflict("the address is verified already");
    return queue_verification(db, *user);
  });
  mail_.send_now({mail});
}

SignIn Accounts::start_session(store::Connection& db, const User& user, const audit::Actor& from,
                               std::string_view user_agent) {
  auto issued = identity::sessions::create(db, user.id, from.ip, user_agent, settings_.refresh_ttl_s);
  audit::record(db, "auth.login", as(from, user.id), {}, user.id);
  return {access_.issue(user.id, issued.session.id), issued.refresh_token, user.id, issued.session.id};
}

LoginResult Accounts::login(std::string_view email, std::string_view password, const audit::Actor& from,
                            std::string_view user_agent) {
  auto user = db_.read([&](store::Connection& db) { return users::find_by_email(db, email); });
  auto verdict = password_login_.check(user ? std::optional(login_account(*user)) : std::nullopt, email, password,
                                       {from.ip, std::string(user_agent)});
  if (verdict.outcome == identity::PasswordLogin::Outcome::Refused) throw bad_credentials();
  if (verdict.outcome == identity::PasswordLogin::Outcome::Suspended) throw common::ApiError(403, "account suspended");
  return db_.write([&](store::Connection& db) {
    if (verdict.upgraded_hash) users::replace_password_hash(db, user->id, user->password_hash, *verdict.upgraded_hash);
    return second_factor(db, *user, from, user_agent);
  });
}

LoginResult Accounts::second_factor(store::Connection& db, const User& user, const audit::Actor& from,
                                    std::string_view user_agent) {
  LoginResult out;
  if (totp_.enabled(db, user.id)) {
    // The failure counter is cleared only once the second factor is in too.
    out.challenge_token = access_.sign(kChallengeType, user.id, settings_.challenge_ttl_s);
    audit::record(db, "auth.mfa_challenged", as(from, user.id), {}, user.id);
  } else {
    identity::lockout::clear(db, user.id);
    out.tokens = start_session(db, user, from, user_agent);
  }
  return out;
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
      mail = count_failure(password_login_, db, *user, as(from, user->id), "auth.mfa_failed");
      return std::nullopt;
    }
    accepted = true;
    spend_once(db, *challenge);
    identity::lockout::clear(db, user->id);
    return start_session(db, *user, from, user_agent);
  });
  if (mail) mail_.send_now({mail});
  if (!result) throw accepted ? common::ApiError::unauthorized("account not found") : invalid_code();
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
    return SignIn{access_.issue(r.user_id, r.issued.session.id), r.issued.refresh_token, r.user_id,
                  r.issued.session.id};
  });
  if (!outcome) throw common::ApiError::unauthorized("invalid or expired refresh token");
  return *outcome;
}

LoginResult Accounts::sign_in(const User& user, const audit::Actor& from, std::string_view user_agent) {
  if (user.suspended) throw common::ApiError(403, "account suspended");
  return db_.write([&](store::Connection& db) { return second_factor(db, user, from, user_agent); });
}

std::string Accounts::offer_github_link(const User& existing, std::string_view github_id, std::string_view login,
                                        const audit::Actor& from) {
  std::string token = access_.sign(kLinkType, existing.id + ":" + std::string(github_id), settings_.link_ttl_s);
  std::int64_t mail = db_.write([&](store::Connection& db) {
    audit::record(db, "auth.github_link_offered", as(from, existing.id), {}, existing.id, {{"login", login}});
    std::string body = "Hello " + existing.name + ",\n\nsomeone signed in to Shardlyn with the GitHub account \"" +
                       std::string(login) +
                       "\", whose verified address is yours. It is linked to your account only once you confirm "
                       "with your password (POST /v1/auth/github/link). If this was not you, do nothing: the "
                       "request expires in " +
                       std::to_string(settings_.link_ttl_s / 60) + " minutes.\n";
    return common::MailQueue::enqueue(db, {existing.email, "Link a GitHub account to Shardlyn?", body, "github-link"});
  });
  mail_.send_now({mail});
  return token;
}

LoginResult Accounts::confirm_github_link(std::string_view link_token, std::string_view password,
                                          const audit::Actor& from, std::string_view user_agent) {
  auto link = access_.verify_signed(kLinkType, link_token);
  auto cut = link ? link->subject.find(':') : std::string::npos;
  if (!link || link->id.empty() || cut == std::string::npos)
    throw common::ApiError::unauthorized("invalid or expired link token; sign in with GitHub again");
  std::string user_id = link->subject.substr(0, cut), github_id = link->subject.substr(cut + 1);
  auto user = db_.read([&](store::Connection& db) { return users::find(db, user_id); });
  bool has_password = user && !user->password_hash.empty();
  bool ok = security::password_verify(password, has_password ? user->password_hash : security::password_dummy_hash()) &&
            has_password;
  std::int64_t now = store::unix_now();
  if (!user || user->locked_until > now) throw bad_credentials();
  if (!ok) {
    std::int64_t mail = db_.write([&](store::Connection& db) {
      return count_failure(password_login_, db, *user, from, "auth.github_link_failed");
    });
    if (mail) mail_.send_now({mail});
    throw bad_credentials();
  }
  if (user->suspended) throw common::ApiError(403, "account suspended");
  if (!user->email_verified)
    throw common::ApiError::conflict(
        "the account's address is not verified: confirm it with the mailed link (or reset the password), then "
        "sign in with GitHub again");
  return db_.write([&](store::Connection& db) {
    if (!spend_once(db, *link)) throw common::ApiError::unauthorized("link token already used");
    if (users::find_by_github(db, github_id))
      throw common::ApiError::conflict("this GitHub account is linked to another account already");
    auto current = users::find(db, user_id);
    if (!current || current->github_id) throw common::ApiError::conflict("the account is linked to GitHub already");
    users::link_github(db, user_id, github_id);
    audit::record(db, "auth.github_linked", as(from, user_id), {}, user_id);
    return second_factor(db, *current, from, user_agent);
  });
}

void Accounts::logout(const Caller& caller) {
  db_.write([&](store::Connection& db) {
    identity::sessions::revoke(db, caller.session_id, "logout");
    audit::record(db, "auth.logout", caller.actor(), {}, caller.user_id);
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
    audit::record(db, "user.password_changed", caller.actor(), {}, user.id);
  });
}

void Accounts::forgot_password(std::string_view email, const audit::Actor& from) {
  // The same insert and commit for every address; nothing here depends on whether it has an account.
  db_.write([&](store::Connection& db) { identity::reset_requests::record(db, email, from.ip); });
  deferred_.post([this] { process_reset_requests(); });
}

void Accounts::process_reset_requests() {
  std::vector<std::int64_t> mails;
  db_.write([&](store::Connection& db) {
    for (const auto& r : identity::reset_requests::take(db, 100))
      if (auto user = users::find_by_email(db, r.email)) mails.push_back(queue_reset(db, *user, {{}, {}, r.ip}));
  });
  if (!mails.empty()) mail_.send_now(mails);
}

std::int64_t Accounts::queue_reset(store::Connection& db, const User& user, const audit::Actor& from) {
  std::string token = identity::mail_tokens::create(db, user.id, kResetPurpose, settings_.reset_ttl_s);
  audit::record(db, "auth.password_reset_requested", as(from, user.id), {}, user.id);
  std::string body = "Hello " + user.name +
                     ",\n\nsomeone asked to reset the password of your Shardlyn account. To choose a new one, "
                     "open\n\n  " +
                     settings_.app_url + "/reset-password?token=" + token +
                     "\n\nor send this token to POST /v1/auth/reset-password:\n\n  " + token +
                     "\n\nThe link works once, for " + std::to_string(settings_.reset_ttl_s / 60) +
                     " minutes. If you did not ask for it, ignore this mail.\n";
  return common::MailQueue::enqueue(db, {user.email, "Reset your Shardlyn password", body, "reset-password"});
}

void Accounts::reset_password(std::string_view token, std::string_view replacement, const audit::Actor& from) {
  std::string hash = security::password_hash(replacement);
  db_.write([&](store::Connection& db) {
    auto user_id = identity::mail_tokens::consume(db, token, kResetPurpose);
    if (!user_id) throw common::ApiError::bad_request("reset token is invalid, used or expired");
    auto user = users::find(db, *user_id);
    if (user && !user->email_verified) {
      users::mark_verified(db, *user_id);
      db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", store::unix_now(),
                 *user_id);
    }
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
    audit::record(db, "mfa.enroll_started", caller.actor(), {}, caller.user_id);
    return enrolment;
  });
}

void Accounts::mfa_verify(const Caller& caller, std::string_view code) {
  db_.write([&](store::Connection& db) {
    if (!totp_.confirm(db, caller.user_id, code)) throw invalid_code();
    audit::record(db, "mfa.enabled", caller.actor(), {}, caller.user_id);
  });
}

void Accounts::mfa_disable(const Caller& caller, std::string_view code) {
  db_.write([&](store::Connection& db) {
    if (!totp_.enabled(db, caller.user_id)) throw common::ApiError::conflict("MFA is not enabled");
    if (!totp_.use_any(db, caller.user_id, code)) throw invalid_code();
    totp_.remove(db, caller.user_id);
    audit::record(db, "mfa.disabled", caller.actor(), {}, caller.user_id);
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
