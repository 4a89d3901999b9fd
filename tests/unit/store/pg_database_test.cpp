// store::Database on PostgreSQL: the SQLite interface (Connection, Query, Statement) over a
// pg::Pool, against a throw-away cluster.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "pg_cluster.hpp"
#include "store/database.hpp"

namespace {

store_test::PgCluster& cluster() {
  static store_test::PgCluster instance;
  return instance;
}

store::Database& database() {
  static store::Database db(store::PostgresTarget{cluster().url(), {}});
  return db;
}

}  // namespace

TEST_CASE("pg database: placeholders become $N outside literals, identifiers and comments") {
  auto& db = database();
  CHECK(db.postgres());
  db.write([](store::Connection& c) {
    c.exec("CREATE TABLE dbq(id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, data BYTEA)");
  });
  const auto text = db.write([](store::Connection& c) {
    c.execute("INSERT INTO dbq VALUES(?, ?, ?, ?)", 1, "a?b", 2.5, store::Blob{std::string("\0\x01\xff", 3)});
    c.execute("INSERT INTO dbq VALUES(?2, ?1, NULL, NULL)", "two", std::int64_t{2});
    return c.query_text("SELECT name || '?' /* ? */ FROM dbq WHERE id = ? -- ?\n", 1);
  });
  CHECK(text == "a?b?");
  db.read([](store::Connection& c) {
    auto q = c.prepare("SELECT id, name, score, data, score IS NULL FROM dbq ORDER BY id");
    REQUIRE(q->step());
    CHECK(q->int64(0) == 1);
    CHECK(q->real(2) == 2.5);
    CHECK(q->blob(3) == std::string("\0\x01\xff", 3));
    CHECK(q->int64(4) == 0);
    CHECK(q->column_name(1) == "name");
    REQUIRE(q->step());
    CHECK(q->text(1) == "two");
    CHECK(q->is_null(2));
    CHECK(q->int64(4) == 1);
    CHECK_FALSE(q->step());
  });
}

TEST_CASE("pg database: NULL filters, changes(), statement reuse and constraint errors") {
  auto& db = database();
  db.write([](store::Connection& c) {
    c.exec("CREATE TABLE dbf(id TEXT PRIMARY KEY, kind TEXT NOT NULL)");
    for (const char* id : {"x", "y", "z"}) c.execute("INSERT INTO dbf VALUES(?, ?)", id, id[0] == 'z' ? "b" : "a");
  });
  const auto count = [&](std::optional<std::string> kind) {
    return db.read([&](store::Connection& c) {
      return c.query_int("SELECT count(*) FROM dbf WHERE (?1 IS NULL OR kind = ?1)", kind).value_or(-1);
    });
  };
  CHECK(count(std::nullopt) == 3);
  CHECK(count("a") == 2);
  CHECK(db.write([](store::Connection& c) { return c.execute("UPDATE dbf SET kind = 'c' WHERE kind = ?", "a"); }) == 2);
  try {
    db.write([](store::Connection& c) { c.execute("INSERT INTO dbf VALUES(?, ?)", "x", "d"); });
    FAIL("a duplicate key was accepted");
  } catch (const store::Error& e) {
    CHECK(e.is_constraint());
  }
  CHECK(count("c") == 2);
  // A NULL into an integer column: the NULL typed text is refused, then left to the server.
  db.write([](store::Connection& c) {
    c.exec("CREATE TABLE dbn(id TEXT PRIMARY KEY, asn BIGINT)");
    c.execute("INSERT INTO dbn VALUES(?, ?)", "n", std::optional<std::int64_t>());
    c.execute("INSERT INTO dbn VALUES(?, ?)", "m", std::optional<std::int64_t>(64500));
  });
  CHECK(db.read([](store::Connection& c) { return c.query_int("SELECT count(asn) FROM dbn"); }) == 1);
}

TEST_CASE("pg database: migrations, ping, and caches told that anything may have changed") {
  auto& db = database();
  const std::vector<store::Migration> list{{1, "one", "CREATE TABLE dbm(v BIGINT)"}, {2, "two", "INSERT INTO dbm VALUES (7)"}};
  db.migrate(list);
  db.migrate(list);
  CHECK(db.applied_versions() == std::vector<int>{1, 2});
  CHECK(db.read([](store::Connection& c) { return c.query_int("SELECT sum(v) FROM dbm"); }) == 7);
  CHECK(db.ping());
  CHECK(db.data_version() != db.data_version());
  CHECK(db.foreign_commits() != db.foreign_commits());
  CHECK_THROWS_AS(db.backup_to("/tmp/never.db"), store::Error);
  CHECK_THROWS_AS(db.write([](store::Connection& c) { return c.last_insert_rowid(); }), store::Error);
}

TEST_CASE("pg database: named parameters, reused by name, beside :: casts") {
  auto& db = database();
  const auto value = db.read([](store::Connection& c) {
    auto q = c.prepare("SELECT (:a::bigint + @b) * :a, '::x' || :c");
    q->bind(":a", 3);
    q->bind("@b", 4);
    q->bind(":c", "y");
    REQUIRE(q->step());
    return std::pair{q->int64(0), q->text(1)};
  });
  CHECK(value == std::pair<std::int64_t, std::string>{21, "::xy"});
}
