// Migrations: applied once, in order, atomically; refused when the list or database is wrong.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "temp_dir.hpp"

using store::Connection;
using store::Database;
using store::Migration;

namespace {

const std::vector<Migration> kV1toV3 = {
    {1, "init", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);"},
    {2, "seed", "INSERT INTO users(email) VALUES('admin@example.com');"},
    {3, "roles",
     "CREATE TABLE roles(user_id INTEGER NOT NULL REFERENCES users(id), role TEXT NOT NULL);"
     "INSERT INTO roles SELECT id, 'admin' FROM users;"},
};

std::int64_t scalar(Database& db, const std::string& sql) {
  return db.read([&](Connection& c) { return c.query_int(sql).value_or(-1); });
}

bool table_exists(Database& db, const std::string& name) {
  return scalar(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '" + name + "'") == 1;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const store::Error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("migrations apply once and in ascending order", "[store][migration]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  CHECK(db.applied_versions().empty());

  db.migrate(kV1toV3);
  CHECK(db.applied_versions() == std::vector<int>{1, 2, 3});
  CHECK(scalar(db, "SELECT count(*) FROM users") == 1);
  CHECK(scalar(db, "SELECT count(*) FROM roles") == 1);
  CHECK(db.read([](Connection& c) { return c.query_text("SELECT name FROM schema_migrations WHERE version = 3"); }) ==
        "roles");
  const auto applied_at =
      db.read([](Connection& c) { return c.query_text("SELECT group_concat(applied_at) FROM schema_migrations"); });

  SECTION("running again applies nothing") {
    db.migrate(kV1toV3);
    CHECK(db.applied_versions() == std::vector<int>{1, 2, 3});
    CHECK(scalar(db, "SELECT count(*) FROM users") == 1);  // the seed did not run twice
    CHECK(db.read([](Connection& c) {
      return c.query_text("SELECT group_concat(applied_at) FROM schema_migrations");
    }) == applied_at);
  }
  SECTION("a reopened database with a longer list applies only the new ones") {
    auto longer = kV1toV3;
    longer.push_back({4, "more", "INSERT INTO users(email) VALUES('second@example.com');"});
    Database reopened(dir / "app.db");
    reopened.migrate(longer);
    CHECK(reopened.applied_versions() == std::vector<int>{1, 2, 3, 4});
    CHECK(scalar(reopened, "SELECT count(*) FROM users") == 2);
  }
}

TEST_CASE("a bad migration list is refused before anything is applied", "[store][migration]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  const std::vector<Migration> out_of_order = {kV1toV3[1], kV1toV3[0]};
  const std::vector<Migration> duplicate = {kV1toV3[0], {1, "again", "SELECT 1;"}};
  const std::vector<Migration> zero = {{0, "zero", "SELECT 1;"}};
  CHECK(message_of([&] { db.migrate(out_of_order); }).find("strictly increasing") != std::string::npos);
  CHECK_THROWS_AS(db.migrate(duplicate), store::Error);
  CHECK_THROWS_AS(db.migrate(zero), store::Error);
  CHECK(db.applied_versions().empty());
  CHECK_FALSE(table_exists(db, "users"));
}

TEST_CASE("a database newer than the binary is refused", "[store][migration]") {
  store_test::TempDir dir;
  {
    Database db(dir / "app.db");
    db.migrate(kV1toV3);
  }
  Database older_binary(dir / "app.db");
  const std::vector<Migration> known = {kV1toV3[0], kV1toV3[1]};
  const std::string message = message_of([&] { older_binary.migrate(known); });
  CHECK(message.find("migration 3") != std::string::npos);
  CHECK(message.find("does not know") != std::string::npos);
  CHECK(older_binary.applied_versions() == std::vector<int>{1, 2, 3});
}

TEST_CASE("a migration cannot be slipped in below an applied one", "[store][migration]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  db.migrate(std::vector<Migration>{kV1toV3[0], {5, "five", "CREATE TABLE five(x);"}});
  const std::vector<Migration> with_gap = {
      kV1toV3[0], {3, "three", "CREATE TABLE three(x);"}, {5, "five", "CREATE TABLE five(x);"}};
  CHECK(message_of([&] { db.migrate(with_gap); }).find("never applied") != std::string::npos);
  CHECK_FALSE(table_exists(db, "three"));
}

TEST_CASE("a failing migration rolls back entirely and keeps earlier ones", "[store][migration]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  std::vector<Migration> list = {
      kV1toV3[0],
      {2, "broken",
       "CREATE TABLE audit(id INTEGER PRIMARY KEY);"
       "INSERT INTO users(email) VALUES('x@example.com');"
       "INSERT INTO no_such_table VALUES(1);"},
      {3, "after", "CREATE TABLE after_broken(x);"},
  };
  const std::string message = message_of([&] { db.migrate(list); });
  CHECK(message.find("migration 2 (broken)") != std::string::npos);
  CHECK(message.find("no_such_table") != std::string::npos);
  CHECK(db.applied_versions() == std::vector<int>{1});
  CHECK(table_exists(db, "users"));
  CHECK_FALSE(table_exists(db, "audit"));
  CHECK_FALSE(table_exists(db, "after_broken"));
  CHECK(scalar(db, "SELECT count(*) FROM users") == 0);

  list[1].sql = "CREATE TABLE audit(id INTEGER PRIMARY KEY);";  // the fix ships
  db.migrate(list);
  CHECK(db.applied_versions() == std::vector<int>{1, 2, 3});
  CHECK(table_exists(db, "after_broken"));
}

TEST_CASE("migrations_from_files parses NNNN_name.sql", "[store][migration]") {
  using Files = std::vector<std::pair<std::string_view, std::string_view>>;
  const Files files = {{"0002_add-roles.sql", "B"}, {"0001_init.sql", "A"}, {"10_x_y.sql", "C"}};
  const auto migrations = store::migrations_from_files(files);
  REQUIRE(migrations.size() == 3);
  CHECK(migrations[0].version == 1);
  CHECK(migrations[0].name == "init");
  CHECK(migrations[0].sql == "A");
  CHECK(migrations[1].version == 2);
  CHECK(migrations[1].name == "add-roles");
  CHECK(migrations[2].version == 10);
  CHECK(migrations[2].name == "x_y");

  CHECK(store::migrations_from_files(Files{{"migrations/0003_dir.sql", ""}})[0].version == 3);

  for (std::string_view bad :
       {"init.sql", "0001init.sql", "0001_.sql", "0001_init.txt", "0001_init", "abc_init.sql", "_init.sql",
        "0000_zero.sql", "-1_neg.sql", "99999999999_big.sql", "0001_bad name.sql", "0001_init.sql.bak"}) {
    INFO(bad);
    CHECK_THROWS_AS(store::migrations_from_files(Files{{bad, ""}}), store::Error);
  }
  CHECK_THROWS_AS(store::migrations_from_files(Files{{"1_a.sql", ""}, {"01_b.sql", ""}}), store::Error);

  struct EmbeddedLike {
    std::string_view name;
    std::string_view data;
  };
  const EmbeddedLike embedded[] = {{"0001_init.sql", "CREATE TABLE t(x);"}};
  const auto from_embedded = store::migrations_from_files(embedded);
  REQUIRE(from_embedded.size() == 1);
  CHECK(from_embedded[0].name == "init");
}
