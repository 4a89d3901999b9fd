// Statement and Connection: binds, column reads, errors, the statement cache.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <climits>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "store/connection.hpp"
#include "store/error.hpp"
#include "temp_dir.hpp"

using namespace std::string_literals;
using store::Blob;
using store::Connection;
using store::Query;

namespace {

// Binds one value to "SELECT ?, typeof(?1)" and returns the query positioned on its row.
template <class T>
Query select_one(Connection& c, T&& value) {
  Query q = c.prepare("SELECT ?1, typeof(?1)");
  q->bind(1, std::forward<T>(value));
  REQUIRE(q->step());
  return q;
}

}  // namespace

TEST_CASE("bind and column round trips keep type and value", "[store][statement]") {
  store_test::TempDir dir;
  Connection c(dir / "t.db");

  SECTION("NULL from nullptr, nullopt and empty optionals") {
    CHECK(select_one(c, nullptr)->is_null(0));
    CHECK(select_one(c, std::nullopt)->text(1) == "null");
    CHECK(select_one(c, std::optional<std::int64_t>())->is_null(0));
    CHECK(select_one(c, std::optional<std::string>())->text_or_null(0) == std::nullopt);
    CHECK(select_one(c, static_cast<const char*>(nullptr))->is_null(0));
    auto q = select_one(c, nullptr);
    CHECK(q->text(0).empty());
    CHECK(q->int64(0) == 0);
    CHECK(q->int64_or_null(0) == std::nullopt);
    CHECK(q->real(0) == 0.0);
    CHECK(q->blob(0).empty());
  }
  SECTION("integers") {
    CHECK(select_one(c, 42)->int64(0) == 42);
    CHECK(select_one(c, INT_MIN)->int64(0) == INT_MIN);
    CHECK(select_one(c, std::numeric_limits<std::int64_t>::max())->int64(0) ==
          std::numeric_limits<std::int64_t>::max());
    CHECK(select_one(c, std::numeric_limits<std::int64_t>::min())->int64(0) ==
          std::numeric_limits<std::int64_t>::min());
    CHECK(select_one(c, 7u)->int64(0) == 7);
    CHECK(select_one(c, std::size_t{9})->int64(0) == 9);
    CHECK(select_one(c, static_cast<short>(-3))->int64(0) == -3);
    CHECK(select_one(c, 5LL)->text(1) == "integer");
    CHECK(select_one(c, std::optional<int>(11))->int64_or_null(0) == 11);
    Query q = c.prepare("SELECT ?");
    CHECK_THROWS_AS(q->bind(1, std::numeric_limits<std::uint64_t>::max()), store::Error);
  }
  SECTION("booleans are 0/1 integers") {
    auto yes = select_one(c, true);
    CHECK(yes->int64(0) == 1);
    CHECK(yes->text(1) == "integer");
    CHECK(select_one(c, false)->int64(0) == 0);
  }
  SECTION("doubles") {
    CHECK(select_one(c, 0.1)->real(0) == 0.1);
    CHECK(select_one(c, -1e300)->real(0) == -1e300);
    CHECK(select_one(c, 2.5f)->real(0) == 2.5);
    CHECK(select_one(c, 0.5)->text(1) == "real");
  }
  SECTION("text: string_view, std::string, literals, embedded NULs, UTF-8, empty is not NULL") {
    const std::string with_nul = "a\0b\0"s;
    auto q = select_one(c, std::string_view(with_nul));
    CHECK(q->text(0) == with_nul);
    CHECK(q->text(1) == "text");
    CHECK(select_one(c, "literal")->text(0) == "literal");
    CHECK(select_one(c, "literal")->text(1) == "text");
    CHECK(select_one(c, "Grüße, 世界"s)->text(0) == "Grüße, 世界");
    CHECK(select_one(c, std::optional<std::string>("x"))->text_or_null(0) == "x");
    auto empty = select_one(c, std::string_view());
    CHECK_FALSE(empty->is_null(0));
    CHECK(empty->text_or_null(0) == "");
  }
  SECTION("blobs keep every byte value and embedded NULs; empty blob is not NULL") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    bytes += "\0\0end"s;
    auto q = select_one(c, Blob{bytes});
    CHECK(q->blob(0) == bytes);
    CHECK(q->text(1) == "blob");
    auto empty = select_one(c, Blob{});
    CHECK_FALSE(empty->is_null(0));
    CHECK(empty->text(1) == "blob");
    CHECK(empty->blob(0).empty());
  }
  SECTION("round trip through a table") {
    c.exec("CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)");
    const std::string blob = "\x00\x01\xff\x00"s;
    CHECK(c.execute("INSERT INTO t VALUES(?, ?, ?, ?, ?)", std::int64_t{1} << 40, 3.25, "text\0more"s, Blob{blob},
                    std::optional<std::string>()) == 1);
    Query q = c.prepare("SELECT i, r, s, b, n FROM t");
    REQUIRE(q->step());
    CHECK(q->int64(0) == std::int64_t{1} << 40);
    CHECK(q->real(1) == 3.25);
    CHECK(q->text(2) == "text\0more"s);
    CHECK(q->blob(3) == blob);
    CHECK(q->is_null(4));
    CHECK_FALSE(q->step());
  }
}

TEST_CASE("named parameters, bind_all and column metadata", "[store][statement]") {
  store_test::TempDir dir;
  Connection c(dir / "t.db");
  c.exec("CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)");

  Query insert = c.prepare("INSERT INTO people(name, age) VALUES(:name, @age)");
  insert->bind(":name", "ada");
  insert->bind("@age", 36);
  CHECK_FALSE(insert->step());
  CHECK(c.changes() == 1);
  CHECK(c.last_insert_rowid() == 1);
  CHECK_THROWS_AS(insert->bind(":missing", 1), store::Error);

  Query q = c.prepare("SELECT id, name AS who, age FROM people WHERE name = ? AND age = ?");
  q->bind_all("ada", 36);
  REQUIRE(q->step());
  CHECK(q->column_count() == 3);
  CHECK(q->column_name(1) == "who");
  CHECK(q->text(1) == "ada");
  CHECK_THROWS_AS(q->text(3), store::Error);
  CHECK_THROWS_AS(q->column_name(-1), store::Error);
  CHECK_FALSE(q->step());
  CHECK_THROWS_AS(q->text(0), store::Error);  // no current row

  Query wrong = c.prepare("SELECT ?, ?");
  CHECK_THROWS_AS(wrong->bind_all(1), store::Error);
  CHECK_THROWS_AS(wrong->bind(3, 1), store::Error);

  CHECK(c.query_int("SELECT count(*) FROM people") == 1);
  CHECK(c.query_int("SELECT age FROM people WHERE id = ?", 99) == std::nullopt);
  CHECK(c.query_text("SELECT name FROM people WHERE age > ?", 30) == "ada");
  CHECK(c.execute("UPDATE people SET age = age + 1") == 1);
}

TEST_CASE("SQL errors surface as store::Error with the extended code", "[store][statement]") {
  store_test::TempDir dir;
  Connection c(dir / "t.db");
  c.exec(
      "CREATE TABLE parent(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL);"
      "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES "
      "parent(id))");
  c.execute("INSERT INTO parent(id, email) VALUES(1, 'a@example.com')");

  SECTION("unique violation") {
    try {
      c.execute("INSERT INTO parent(email) VALUES(?)", "a@example.com");
      FAIL("expected a constraint error");
    } catch (const store::Error& e) {
      CHECK(e.is_constraint());
      CHECK_FALSE(e.is_busy());
      CHECK(e.code() == SQLITE_CONSTRAINT_UNIQUE);
      CHECK(e.primary_code() == SQLITE_CONSTRAINT);
      CHECK(std::string(e.what()).find("UNIQUE") != std::string::npos);
    }
  }
  SECTION("not null and foreign key violations") {
    try {
      c.execute("INSERT INTO parent(email) VALUES(?)", nullptr);
      FAIL("expected NOT NULL violation");
    } catch (const store::Error& e) {
      CHECK(e.code() == SQLITE_CONSTRAINT_NOTNULL);
    }
    try {
      c.execute("INSERT INTO child(parent_id) VALUES(?)", 42);
      FAIL("expected a foreign key violation");
    } catch (const store::Error& e) {
      CHECK(e.is_constraint());
      CHECK(e.code() == SQLITE_CONSTRAINT_FOREIGNKEY);
    }
  }
  SECTION("the statement is usable again after a failed step") {
    CHECK_THROWS_AS(c.execute("INSERT INTO parent(id, email) VALUES(?, ?)", 1, "b"), store::Error);
    CHECK(c.execute("INSERT INTO parent(id, email) VALUES(?, ?)", 2, "b") == 1);
  }
  SECTION("syntax errors, unknown tables and scripts in prepare") {
    CHECK_THROWS_AS(c.prepare("SELEC 1"), store::Error);
    CHECK_THROWS_AS(c.prepare("SELECT * FROM nowhere"), store::Error);
    CHECK_THROWS_AS(c.prepare("SELECT 1; SELECT 2"), store::Error);
    CHECK_THROWS_AS(c.prepare("SELECT 1;; SELECT 2"), store::Error);
    CHECK_THROWS_AS(c.prepare("  -- only a comment"), store::Error);
    CHECK_NOTHROW(c.prepare("SELECT 1; -- trailing comment\n ;"));
    CHECK_THROWS_AS(c.exec("CREATE TABLE x(a); INSERT INTO nowhere VALUES(1)"), store::Error);
  }
}

TEST_CASE("the statement cache hands out one compiled statement per SQL text", "[store][statement]") {
  store_test::TempDir dir;
  Connection c(dir / "t.db");
  const std::string sql = "SELECT ?1 + 1";

  sqlite3_stmt* first_handle = nullptr;
  const store::Statement* first = nullptr;
  {
    Query q = c.prepare(sql);
    first = &*q;
    first_handle = q->handle();
    q->bind(1, 1);
    REQUIRE(q->step());
  }
  CHECK(c.cached_statements() == 1);
  {
    Query again = c.prepare(sql);
    CHECK(&*again == first);
    CHECK(again->handle() == first_handle);
    CHECK(c.cached_statements() == 0);  // checked out
    // Returned reset and cleared: the old binding is gone.
    REQUIRE(again->step());
    CHECK(again->is_null(0));

    // A second user of the same SQL while the first holds it gets its own statement.
    Query concurrent = c.prepare(sql);
    CHECK(concurrent->handle() != first_handle);
    concurrent->bind(1, 41);
    REQUIRE(concurrent->step());
    CHECK(concurrent->int64(0) == 42);
  }
  CHECK(c.cached_statements() == 1);  // one of the two was kept, the other finalized
  sqlite3_stmt* kept = c.prepare(sql)->handle();
  CHECK(c.prepare(sql)->handle() == kept);
  CHECK(c.cached_statements() == 1);

  Query moved = c.prepare("SELECT 2");
  Query target = std::move(moved);
  REQUIRE(target->step());
  CHECK(target->int64(0) == 2);
}
