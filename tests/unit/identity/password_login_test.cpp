// The password-login policy against a real SQLite file: one answer for unknown, wrong and locked,
// failures counted towards the lock, the lock mailed once, suspension, and hash upgrades.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../store/temp_dir.hpp"
#include "identity/password_login.hpp"
#include "identity/schema.hpp"
#include "security/password.hpp"
#include "store/database.hpp"
#include "store/time.hpp"

using identity::PasswordLogin;
using Outcome = identity::PasswordLogin::Outcome;

namespace {

constexpr std::string_view kUsers = R"sql(
CREATE TABLE users (id TEXT PRIMARY KEY, failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until INTEGER NOT NULL DEFAULT 0) STRICT;
INSERT INTO users (id) VALUES ('usr_a');
)sql";

// Weaker than today's parameters (Debian's argon2 CLI, as in password_test.cpp):
//   echo -n "hunter2" | argon2 "legacy-salt" -id -t 1 -k 8192 -p 1 -l 32 -e
constexpr const char* kLegacyHash =
    "$argon2id$v=19$m=8192,t=1,p=1$bGVnYWN5LXNhbHQ$07JdZ6Ts7/V92gcH858cNh7mgihTbjCYI6J8PEG0dGg";

struct Fixture {
  store_test::TempDir dir;
  store::Database db{dir / "login.db"};
  common::MailQueue mail;
  std::vector<std::string> events;
  std::vector<std::string> mailed;
  PasswordLogin login;
  identity::LoginAccount account;
  identity::Client client{"192.0.2.7", "test"};

  static common::MailSettings outbox(const std::filesystem::path& dir) {
    common::MailSettings s;
    s.from = "test <noreply@example.com>";
    s.kind_header = "X-Test-Mail";
    s.outbox = dir / "outbox";
    return s;
  }
  Fixture()
      : mail(migrated(db), common::Mailer(outbox(dir.path()))),
        login(db, mail, identity::LockoutPolicy{3, 60, 600},
              {[this](store::Connection&, const identity::LoginEvent& e) {
                 events.push_back(std::string(e.name) + ":" + std::string(e.user_id) + "@" + e.client.ip);
               },
               [this](const identity::LoginAccount& a, const identity::Failure& f) {
                 mailed.push_back(a.email + " " + std::to_string(f.failures));
                 return common::Mail{a.email, "locked", "until " + std::to_string(f.locked_until), "account-locked"};
               }}) {
    account = {"usr_a", "a@example.com", "A", security::password_hash("right password"), false, 0};
  }
  static store::Database& migrated(store::Database& db) {
    std::vector<store::Migration> schema{{1, "users", kUsers}};
    db.migrate(schema);
    common::migrate_libraries(db, identity::migrations());
    return db;
  }
  // The account as the service would read it again before the next attempt.
  void reload() {
    account.locked_until =
        db.read([](store::Connection& c) { return c.query_int("SELECT locked_until FROM users").value_or(0); });
  }
  std::int64_t failures() {
    return db.read([](store::Connection& c) { return c.query_int("SELECT failed_logins FROM users").value_or(0); });
  }
  std::int64_t queued_mails() {
    return db.read([](store::Connection& c) {
      return c.query_int("SELECT count(*) FROM mail_queue WHERE user_id = 'usr_a'").value_or(0);
    });
  }
};

}  // namespace

TEST_CASE("password login: the right password is accepted", "[identity][login]") {
  Fixture f;
  auto v = f.login.check(f.account, f.account.email, "right password", f.client);
  CHECK(v.outcome == Outcome::Accepted);
  CHECK_FALSE(v.upgraded_hash);
  CHECK(f.events.empty());
}

TEST_CASE("password login: unknown address and wrong password get the same refusal", "[identity][login]") {
  Fixture f;
  auto unknown = f.login.check(std::nullopt, "nobody@example.com", "right password", f.client);
  auto wrong = f.login.check(f.account, f.account.email, "wrong password", f.client);
  CHECK(unknown.outcome == Outcome::Refused);
  CHECK(wrong.outcome == Outcome::Refused);
  CHECK(f.events ==
        std::vector<std::string>{"login.unknown_address:@192.0.2.7", "login.wrong_password:usr_a@192.0.2.7"});
  CHECK(f.failures() == 1);
}

TEST_CASE("password login: an account without a password never signs in with one", "[identity][login]") {
  Fixture f;
  f.account.password_hash.clear();
  CHECK(f.login.check(f.account, f.account.email, "", f.client).outcome == Outcome::Refused);
}

TEST_CASE("password login: the lock starts at the threshold, is mailed once and refuses the right password",
          "[identity][login]") {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    f.reload();
    CHECK(f.login.check(f.account, f.account.email, "wrong", f.client).outcome == Outcome::Refused);
  }
  f.reload();
  std::int64_t now = store::unix_now();
  CHECK(f.account.locked_until > now);
  CHECK(f.account.locked_until <= now + 60);  // the policy's first lock: 60 s from the third failure
  CHECK(f.mailed == std::vector<std::string>{"a@example.com 3"});
  CHECK(f.queued_mails() == 1);
  // Locked: the right password gets the refusal a wrong one gets, and counts nothing more.
  CHECK(f.login.check(f.account, f.account.email, "right password", f.client).outcome == Outcome::Refused);
  CHECK(f.events.back() == "login.while_locked:usr_a@192.0.2.7");
  CHECK(f.failures() == 3);
  CHECK(f.mailed.size() == 1);
  // Once the lock ran out, a success clears the counter.
  f.db.write([](store::Connection& c) { c.execute("UPDATE users SET locked_until = 1"); });
  f.reload();
  CHECK(f.login.check(f.account, f.account.email, "right password", f.client).outcome == Outcome::Accepted);
  f.db.write([](store::Connection& c) { PasswordLogin::succeeded(c, "usr_a"); });
  CHECK(f.failures() == 0);
}

TEST_CASE("password login: a failed second factor counts towards the same lock", "[identity][login]") {
  Fixture f;
  for (int i = 0; i < 2; ++i) f.login.check(f.account, f.account.email, "wrong", f.client);
  auto failure = f.db.write([&](store::Connection& c) { return f.login.count_failure(c, f.account); });
  CHECK(failure.failures == 3);
  CHECK(failure.locked_until > 0);
  CHECK(failure.mail > 0);
  f.login.send(failure.mail);
  CHECK(f.mailed.size() == 1);
}

TEST_CASE("password login: suspension is told only to the right password", "[identity][login]") {
  Fixture f;
  f.account.suspended = true;
  CHECK(f.login.check(f.account, f.account.email, "wrong", f.client).outcome == Outcome::Refused);
  CHECK(f.login.check(f.account, f.account.email, "right password", f.client).outcome == Outcome::Suspended);
  CHECK(f.events.back() == "login.suspended:usr_a@192.0.2.7");
}

TEST_CASE("password login: an outdated hash is upgraded with the password at hand", "[identity][login]") {
  Fixture f;
  f.account.password_hash = kLegacyHash;
  auto v = f.login.check(f.account, f.account.email, "hunter2", f.client);
  REQUIRE(v.outcome == Outcome::Accepted);
  REQUIRE(v.upgraded_hash);
  CHECK(security::password_verify("hunter2", *v.upgraded_hash));
  CHECK_FALSE(security::password_needs_rehash(*v.upgraded_hash));
}
