// PostgreSQL backend: prepared statements, transactions, retries, migrations, reconnect, against
// a throw-away cluster.
#include "store/pg.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pg_cluster.hpp"

using store::pg::Connection;
using store::pg::Pool;

namespace {

store_test::PgCluster& cluster() {
  static store_test::PgCluster instance;  // one cluster for the whole binary; each test uses its own tables
  return instance;
}

int count_rows(Pool& pool, const std::string& table) {
  return static_cast<int>(pool.read([&](Connection& c) { return *c.query_int("SELECT count(*) FROM " + table); }));
}

}  // namespace

TEST_CASE("pg: DATABASE_URL values that select PostgreSQL") {
  CHECK(store::pg::is_postgres_url("postgres://u@h/db"));
  CHECK(store::pg::is_postgres_url("postgresql://u@h/db"));
  CHECK_FALSE(store::pg::is_postgres_url(""));
  CHECK_FALSE(store::pg::is_postgres_url("/var/lib/data/store.db"));
}

TEST_CASE("pg: a statement is prepared once per connection and parameters round-trip, NULL included") {
  Connection c(cluster().url());
  c.exec("CREATE TABLE prep_t(id BIGINT PRIMARY KEY, name TEXT)");
  c.query("INSERT INTO prep_t VALUES($1, $2)", std::int64_t{1}, "one");
  c.query("INSERT INTO prep_t VALUES($1, $2)", std::int64_t{2}, std::nullopt);
  CHECK(c.prepared_statements() == 1);
  const auto rows = c.query("SELECT id, name FROM prep_t ORDER BY id");
  REQUIRE(rows.rows() == 2);
  CHECK(rows.int64(0, 0) == 1);
  CHECK(rows.text(0, 1) == "one");
  CHECK(rows.is_null(1, 1));
  CHECK_THROWS_AS(rows.text(2, 0), store::Error);
  CHECK(c.prepared_statements() == 2);
}

TEST_CASE("pg: write() commits, a throwing block rolls back, constraint violations read as constraints") {
  Pool pool(cluster().url(), {.size = 2});
  pool.write([](Connection& c) { c.exec("CREATE TABLE tx_t(id INT PRIMARY KEY)"); });
  pool.write([](Connection& c) { c.query("INSERT INTO tx_t VALUES($1)", 1); });
  CHECK_THROWS_AS(pool.write([](Connection& c) {
    c.query("INSERT INTO tx_t VALUES($1)", 2);
    throw std::runtime_error("handler failed");
  }),
                  std::runtime_error);
  CHECK(count_rows(pool, "tx_t") == 1);
  try {
    pool.write([](Connection& c) { c.query("INSERT INTO tx_t VALUES($1)", 1); });
    FAIL("duplicate key accepted");
  } catch (const store::pg::Error& e) {
    CHECK(e.is_constraint());
    CHECK(e.sqlstate() == "23505");
  }
}

TEST_CASE("pg: a block that swallowed a failed statement does not report a commit") {
  Pool pool(cluster().url(), {.size = 1});
  pool.write([](Connection& c) { c.exec("CREATE TABLE swallow_t(id INT PRIMARY KEY)"); });
  CHECK_THROWS_AS(pool.write([](Connection& c) {
    c.query("INSERT INTO swallow_t VALUES($1)", 1);
    try {
      c.query("INSERT INTO swallow_t VALUES($1)", 1);
    } catch (const store::pg::Error&) {
    }
  }),
                  store::pg::Error);
  CHECK(count_rows(pool, "swallow_t") == 0);
}

TEST_CASE("pg: a serialization failure repeats the block, and gives up after the configured retries") {
  Pool pool(cluster().url(), {.size = 1});
  Connection other(cluster().url());
  other.exec("CREATE TABLE ser_t(id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO ser_t VALUES(1, 0)");
  int attempts = 0;
  pool.write([&](Connection& c) {
    const auto n = *c.query_int("SELECT n FROM ser_t WHERE id = 1");
    if (++attempts == 1) other.exec("UPDATE ser_t SET n = n + 10 WHERE id = 1");  // commits in between
    c.query("UPDATE ser_t SET n = $1 WHERE id = 1", n + 1);
  });
  CHECK(attempts == 2);
  CHECK(*other.query_int("SELECT n FROM ser_t WHERE id = 1") == 11);

  Pool strict(cluster().url(), {.size = 1, .serialization_retries = 0});
  try {
    strict.write([&](Connection& c) {
      const auto n = *c.query_int("SELECT n FROM ser_t WHERE id = 1");
      other.exec("UPDATE ser_t SET n = n + 10 WHERE id = 1");
      c.query("UPDATE ser_t SET n = $1 WHERE id = 1", n + 1);
    });
    FAIL("conflicting write committed");
  } catch (const store::pg::Error& e) {
    CHECK(e.is_serialization_failure());
    CHECK(e.is_busy());
  }
  CHECK(*other.query_int("SELECT n FROM ser_t WHERE id = 1") == 21);
}

TEST_CASE("pg: statement timeout and pool exhaustion are errors, not hangs") {
  Pool pool(cluster().url(), {.size = 1, .statement_timeout_ms = 50, .acquire_timeout = std::chrono::milliseconds(50)});
  try {
    pool.read([](Connection& c) { c.query("SELECT pg_sleep(5)"); });
    FAIL("statement outlived its timeout");
  } catch (const store::pg::Error& e) {
    CHECK(e.sqlstate() == "57014");
  }
  const Pool::Lease held(pool);
  CHECK(pool.open_connections() == 1);
  try {
    pool.read([](Connection&) {});
    FAIL("a second connection was lent");
  } catch (const store::pg::Error& e) {
    CHECK(e.sqlstate() == "53300");
  }
}

TEST_CASE("pg: migrations are recorded, applied once across concurrent replicas, and checked") {
  const std::string url = cluster().url();
  const std::vector<store::Migration> list = {
      {1, "init", "CREATE TABLE mig_a(id INT PRIMARY KEY)"},
      {2, "more", "CREATE TABLE mig_b(id INT PRIMARY KEY); INSERT INTO mig_a VALUES(1)"},
  };
  std::vector<std::thread> replicas;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    replicas.emplace_back([&, i] {
      try {
        Pool replica(url, {.size = 1});
        replica.migrate(list);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : replicas) t.join();
  for (const auto& e : errors) CHECK(e.empty());
  Pool pool(url, {.size = 1});
  CHECK(pool.applied_versions() == std::vector<int>{1, 2});
  CHECK(count_rows(pool, "mig_a") == 1);

  const std::vector<store::Migration> older = {list[0]};
  CHECK_THROWS_AS(pool.migrate(older), store::Error);  // the database is newer than this list
  const std::vector<store::Migration> failing = {list[0], list[1], {3, "bad", "CREATE TABLE mig_c(id INT); SELEC 1"}};
  CHECK_THROWS_AS(pool.migrate(failing), store::pg::Error);
  CHECK(pool.applied_versions() == std::vector<int>{1, 2});
  CHECK(*pool.read([](Connection& c) { return c.query_int("SELECT count(*) FROM pg_tables WHERE tablename = 'mig_c'"); }) == 0);
}

TEST_CASE("pg: the pool reconnects by itself after a server restart") {
  Pool pool(cluster().url(), {.size = 3, .serialization_retries = 1});
  pool.write([](Connection& c) { c.exec("CREATE TABLE restart_t(id INT PRIMARY KEY)"); });
  {
    const Pool::Lease a(pool);
    const Pool::Lease b(pool);
    const Pool::Lease c(pool);
  }
  CHECK(pool.open_connections() == 3);
  cluster().stop();
  cluster().start();
  // The first idle session is found dead: the others are dropped with it, the retry connects anew.
  pool.write([](Connection& c) { c.query("INSERT INTO restart_t VALUES($1)", 1); });
  CHECK(pool.open_connections() == 1);

  cluster().stop();
  CHECK_FALSE(pool.ping());
  try {
    pool.write([](Connection& c) { c.query("INSERT INTO restart_t VALUES($1)", 2); });
    FAIL("a write succeeded with the server down");
  } catch (const store::pg::Error& e) {
    CHECK(e.is_connection_lost());
  }
  cluster().start();
  pool.write([](Connection& c) { c.query("INSERT INTO restart_t VALUES($1)", 3); });
  CHECK(pool.ping());
  CHECK(count_rows(pool, "restart_t") == 2);
}

TEST_CASE("pg: one replica leads a job, and another takes over when the leader's session ends") {
  constexpr std::int64_t kJob = 4242;
  auto first = std::make_unique<store::pg::Leadership>(cluster().url(), kJob);
  store::pg::Leadership second(cluster().url(), kJob);
  CHECK(first->try_lead());
  CHECK_FALSE(second.try_lead());
  CHECK(first->try_lead());  // still leading, the lock is not taken twice
  first.reset();             // the process dies: its session closes
  bool taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {  // the server notices the closed socket shortly
    taken = second.try_lead();
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(taken);
  CHECK(second.leading());
  store::pg::Leadership third(cluster().url(), kJob);
  CHECK_FALSE(third.try_lead());
}

TEST_CASE("pg: a NOTIFY committed on one session reaches a listener on another, in order") {
  Connection listener(cluster().url());
  listener.listen("events_t");
  CHECK_THROWS_AS(listener.listen("bad channel; DROP TABLE x"), store::pg::Error);
  CHECK_FALSE(listener.wait_notification(std::chrono::milliseconds(0)).has_value());
  Pool pool(cluster().url(), {.size = 1});
  pool.write([](Connection& c) {
    c.query("SELECT pg_notify($1, $2)", "events_t", "41");
    c.query("SELECT pg_notify($1, $2)", "events_t", "42");
  });
  CHECK_THROWS(pool.write([](Connection& c) {
    c.query("SELECT pg_notify($1, $2)", "events_t", "rolled back");
    throw std::runtime_error("no commit");
  }));
  const auto first = listener.wait_notification(std::chrono::seconds(10));
  const auto second = listener.wait_notification(std::chrono::seconds(10));
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->channel == "events_t");
  CHECK(first->payload == "41");
  CHECK(second->payload == "42");
  CHECK_FALSE(listener.wait_notification(std::chrono::milliseconds(200)).has_value());
}
