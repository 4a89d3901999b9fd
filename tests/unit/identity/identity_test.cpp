// libidentity against a real SQLite file with the schema it ships (identity::migrations()): sessions and
// refresh-token families, lockout, single-use mail tokens, TOTP enrolment and backup codes.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../store/temp_dir.hpp"
#include "common/error.hpp"
#include "identity/lockout.hpp"
#include "identity/mail_tokens.hpp"
#include "identity/schema.hpp"
#include "identity/sessions.hpp"
#include "identity/totp_store.hpp"
#include "security/encoding.hpp"
#include "security/totp.hpp"
#include "store/database.hpp"
#include "store/time.hpp"

using store::Connection;

namespace {

// The service's side (its users table); the library's own tables come from identity::migrations().
constexpr std::string_view kUsers = R"sql(
CREATE TABLE users (id TEXT PRIMARY KEY, failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until INTEGER NOT NULL DEFAULT 0) STRICT;
INSERT INTO users (id) VALUES ('usr_a'), ('usr_b');
)sql";

struct Fixture {
  store_test::TempDir dir;
  store::Database db{dir / "identity.db"};
  Fixture() {
    std::vector<store::Migration> schema{{1, "users", kUsers}};
    db.migrate(schema);
    common::migrate_libraries(db, identity::migrations());
  }
  template <class F>
  auto write(F&& f) {
    return db.write(std::forward<F>(f));
  }
};

}  // namespace

TEST_CASE("lockout doubles from the threshold up to the cap", "[identity][lockout]") {
  identity::LockoutPolicy policy{3, 60, 600};
  CHECK(policy.lock_seconds(1) == 0);
  CHECK(policy.lock_seconds(2) == 0);
  CHECK(policy.lock_seconds(3) == 60);
  CHECK(policy.lock_seconds(4) == 120);
  CHECK(policy.lock_seconds(6) == 480);
  CHECK(policy.lock_seconds(7) == 600);
  CHECK(policy.lock_seconds(1000) == 600);
}

TEST_CASE("lockout counts failures per account and a success clears them", "[identity][lockout]") {
  Fixture f;
  identity::LockoutPolicy policy{2, 30, 300};
  f.write([&](Connection& c) {
    CHECK(identity::lockout::record_failure(c, "usr_a", 1000, policy) == 0);
    CHECK(identity::lockout::record_failure(c, "usr_a", 1001, policy) == 1031);
    CHECK(identity::lockout::record_failure(c, "usr_a", 1002, policy) == 1062);
    CHECK(c.query_int("SELECT failed_logins FROM users WHERE id = 'usr_b'") == 0);
    identity::lockout::clear(c, "usr_a");
    CHECK(c.query_int("SELECT failed_logins + locked_until FROM users WHERE id = 'usr_a'") == 0);
  });
}

TEST_CASE("a refresh token rotates once; replaying it revokes the family", "[identity][sessions]") {
  Fixture f;
  auto issued = f.write([](Connection& c) { return identity::sessions::create(c, "usr_a", "127.0.0.1", "ua", 3600); });
  auto first = f.write([&](Connection& c) { return identity::sessions::rotate(c, issued.refresh_token, "::1"); });
  REQUIRE(first.outcome == identity::Rotation::Outcome::Rotated);
  CHECK(first.issued.session.id == issued.session.id);
  CHECK(first.issued.refresh_token != issued.refresh_token);
  CHECK(first.issued.session.ip == "::1");

  auto replay = f.write([&](Connection& c) { return identity::sessions::rotate(c, issued.refresh_token, "::1"); });
  CHECK(replay.outcome == identity::Rotation::Outcome::Reused);
  CHECK(replay.session_id == issued.session.id);
  CHECK(replay.user_id == "usr_a");
  // The whole family is gone: the newest token no longer works either.
  auto after = f.write([&](Connection& c) { return identity::sessions::rotate(c, first.issued.refresh_token, "::1"); });
  CHECK(after.outcome == identity::Rotation::Outcome::Unknown);
  CHECK_FALSE(f.db.read([&](Connection& c) { return identity::sessions::live_by_id(c, issued.session.id); }));

  auto unknown = f.write([](Connection& c) { return identity::sessions::rotate(c, "no-such-token", ""); });
  CHECK(unknown.outcome == identity::Rotation::Outcome::Unknown);
}

TEST_CASE("revoke_all keeps the named session only", "[identity][sessions]") {
  Fixture f;
  auto keep = f.write([](Connection& c) { return identity::sessions::create(c, "usr_a", "", "", 3600); });
  f.write([](Connection& c) { identity::sessions::create(c, "usr_a", "", "", 3600); });
  f.write([](Connection& c) { identity::sessions::create(c, "usr_b", "", "", 3600); });
  CHECK(f.write([&](Connection& c) { return identity::sessions::revoke_all(c, "usr_a", keep.session.id, "test"); }) ==
        1);
  auto live = f.db.read([](Connection& c) { return identity::sessions::live_for_user(c, "usr_a"); });
  REQUIRE(live.size() == 1);
  CHECK(live[0].id == keep.session.id);
  CHECK(f.db.read([](Connection& c) { return identity::sessions::count_live(c); }) == 2);
}

TEST_CASE("mail tokens are single use and bound to their purpose", "[identity][mail_tokens]") {
  Fixture f;
  auto token = f.write([](Connection& c) { return identity::mail_tokens::create(c, "usr_a", "reset", 600); });
  CHECK_FALSE(f.write([&](Connection& c) { return identity::mail_tokens::consume(c, token, "verify"); }));
  CHECK(f.write([&](Connection& c) { return identity::mail_tokens::consume(c, token, "reset"); }) == "usr_a");
  CHECK_FALSE(f.write([&](Connection& c) { return identity::mail_tokens::consume(c, token, "reset"); }));

  auto expired = f.write([](Connection& c) { return identity::mail_tokens::create(c, "usr_a", "reset", -1); });
  CHECK_FALSE(f.write([&](Connection& c) { return identity::mail_tokens::consume(c, expired, "reset"); }));
  auto spent = f.write([](Connection& c) { return identity::mail_tokens::create(c, "usr_b", "reset", 600); });
  f.write([](Connection& c) { identity::mail_tokens::spend_all(c, "usr_b", "reset"); });
  CHECK_FALSE(f.write([&](Connection& c) { return identity::mail_tokens::consume(c, spent, "reset"); }));
}

TEST_CASE("TOTP enrolment, single-use codes and backup codes", "[identity][totp]") {
  Fixture f;
  identity::TotpStore totp(std::string(32, 'k'), "Example");
  CHECK_THROWS_AS(identity::TotpStore("short", "Example"), std::invalid_argument);

  auto enrolment = f.write([&](Connection& c) { return totp.begin(c, "usr_a", "a@example.com"); });
  CHECK(enrolment.otpauth_uri.rfind("otpauth://totp/Example:a%40example.com?secret=", 0) == 0);
  REQUIRE(enrolment.backup_codes.size() == identity::TotpStore::kBackupCodes);
  auto key = security::base32_decode(enrolment.secret);
  REQUIRE(key);
  std::int64_t now = store::unix_now();

  // Nothing works before confirmation; a wrong first code changes nothing.
  CHECK_FALSE(f.write([&](Connection& c) { return totp.use_backup_code(c, "usr_a", enrolment.backup_codes[0]); }));
  CHECK_FALSE(f.write([&](Connection& c) { return totp.confirm(c, "usr_a", "000000x"); }));
  CHECK(f.write([&](Connection& c) { return totp.confirm(c, "usr_a", security::totp(*key, now)); }));
  CHECK_THROWS_AS(f.write([&](Connection& c) { return totp.begin(c, "usr_a", "a@example.com"); }), common::ApiError);

  // The confirming code (and any older step) is spent; the next step is accepted once.
  CHECK_FALSE(f.write([&](Connection& c) { return totp.use_code(c, "usr_a", security::totp(*key, now)); }));
  std::string next = security::totp(*key, now + 30);
  CHECK(f.write([&](Connection& c) { return totp.use_code(c, "usr_a", next); }));
  CHECK_FALSE(f.write([&](Connection& c) { return totp.use_code(c, "usr_a", next); }));

  // Backup codes: typed loosely, each works once.
  std::string loose = " " + enrolment.backup_codes[1] + " ";
  for (auto& ch : loose) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  CHECK(f.write([&](Connection& c) { return totp.use_any(c, "usr_a", loose); }));
  CHECK_FALSE(f.write([&](Connection& c) { return totp.use_backup_code(c, "usr_a", enrolment.backup_codes[1]); }));
  CHECK(f.db.read([&](Connection& c) { return totp.status(c, "usr_a"); }).backup_codes_remaining == 9);
  // Another account's codes are not this one's.
  CHECK_FALSE(f.write([&](Connection& c) { return totp.use_backup_code(c, "usr_b", enrolment.backup_codes[2]); }));

  f.write([&](Connection& c) { totp.remove(c, "usr_a"); });
  CHECK_FALSE(f.db.read([&](Connection& c) { return totp.status(c, "usr_a"); }).enabled);
  CHECK_THROWS_AS(f.write([&](Connection& c) { return totp.confirm(c, "usr_a", "123456"); }), common::ApiError);
}
