#include "identity/password_login.hpp"

#include <utility>

#include "security/password.hpp"
#include "store/time.hpp"

namespace identity {

namespace {

constexpr std::string_view kFailures = "SELECT failed_logins FROM users WHERE id = ?";
constexpr std::string_view kMailOwner = "UPDATE mail_queue SET user_id = ? WHERE id = ?";

}  // namespace

PasswordLogin::PasswordLogin(store::Database& db, common::MailQueue& mail, LockoutPolicy policy, LoginHooks hooks)
    : db_(db), mail_(mail), policy_(policy), hooks_(std::move(hooks)) {}

PasswordLogin::Verdict PasswordLogin::check(const std::optional<LoginAccount>& account, std::string_view email,
                                            std::string_view password, const Client& client) {
  // Every attempt runs one hash (a dummy one for unknown addresses and accounts without a
  // password), so that the time taken tells nothing either.
  bool has_password = account && !account->password_hash.empty();
  bool ok =
      security::password_verify(password, has_password ? account->password_hash : security::password_dummy_hash()) &&
      has_password;
  std::int64_t now = store::unix_now();
  auto report = [&](std::string_view name, boost::json::object details = {}) {
    db_.write([&](store::Connection& c) {
      hooks_.audit(c, {name, account ? std::string_view(account->id) : std::string_view(), client, std::move(details)});
    });
  };
  if (!account) {
    report(kLoginUnknownAddress, {{"email", email}});
    return {};
  }
  // A locked account answers exactly like a wrong password, even to the right one, so that the
  // lock does not tell which addresses have an account; its owner learned of it by mail.
  if (account->locked_until > now) {
    report(kLoginWhileLocked);
    return {};
  }
  if (!ok) {
    Failure failure = db_.write([&](store::Connection& c) {
      Failure f = count_failure(c, *account);
      hooks_.audit(
          c, {kLoginWrongPassword, account->id, client, {{"failures", f.failures}, {"lockedUntil", f.locked_until}}});
      return f;
    });
    send(failure.mail);
    return {};
  }
  if (account->suspended) {
    report(kLoginSuspended);
    return {Outcome::Suspended, std::nullopt};
  }
  // Hashes made with weaker parameters than today's are upgraded while the password is at hand.
  Verdict accepted{Outcome::Accepted, std::nullopt};
  if (security::password_needs_rehash(account->password_hash))
    accepted.upgraded_hash = security::password_hash(password);
  return accepted;
}

Failure PasswordLogin::count_failure(store::Connection& c, const LoginAccount& account) {
  Failure f;
  f.locked_until = lockout::record_failure(c, account.id, store::unix_now(), policy_);
  f.failures = c.query_int(kFailures, account.id).value_or(0);
  if (f.locked_until) {
    // Marked with the account, so that erasing it finds the mail whatever address it went to.
    f.mail = common::MailQueue::enqueue(c, hooks_.lock_mail(account, f));
    c.execute(kMailOwner, account.id, f.mail);
  }
  return f;
}

void PasswordLogin::send(std::int64_t mail) {
  if (mail) mail_.send_now({mail});
}

void PasswordLogin::succeeded(store::Connection& c, std::string_view user_id) { lockout::clear(c, user_id); }

}  // namespace identity
