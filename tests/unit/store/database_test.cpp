// Database: transactions, the read pool, concurrency, WAL, foreign keys, backup, observers.
#include "store/database.hpp"

#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

using store::Connection;
using store::Database;

namespace {

const store::Migration kSchema[] = {
    {1, "items", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, payload BLOB);"},
    {2, "owners",
     "CREATE TABLE owners(id INTEGER PRIMARY KEY);"
     "CREATE TABLE pets(id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES owners(id));"},
};

std::int64_t count_items(Connection& c) { return c.query_int("SELECT count(*) FROM items").value(); }

}  // namespace

TEST_CASE("write commits, read sees it, and failures roll back", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "nested" / "dir" / "app.db");  // parent directories are created
  db.migrate(kSchema);
  CHECK(db.path() == dir / "nested" / "dir" / "app.db");

  const std::int64_t id = db.write([](Connection& c) {
    c.execute("INSERT INTO items(name) VALUES(?)", "first");
    return c.last_insert_rowid();
  });
  CHECK(id == 1);
  CHECK(db.read([](Connection& c) { return c.query_text("SELECT name FROM items WHERE id = 1"); }) == "first");

  SECTION("an exception inside write() rolls back everything it did") {
    CHECK_THROWS_AS(db.write([](Connection& c) {
      c.execute("INSERT INTO items(name) VALUES(?)", "second");
      c.execute("INSERT INTO items(name) VALUES(?)", "third");
      throw std::runtime_error("domain rule failed");
    }),
                    std::runtime_error);
    CHECK(db.read(count_items) == 1);
  }
  SECTION("a constraint error inside write() rolls back and reports is_constraint") {
    try {
      db.write([](Connection& c) {
        c.execute("INSERT INTO items(name) VALUES(?)", "ok");
        c.execute("INSERT INTO items(name) VALUES(?)", "first");  // duplicate
      });
      FAIL("expected a constraint error");
    } catch (const store::Error& e) {
      CHECK(e.is_constraint());
    }
    CHECK(db.read(count_items) == 1);
    // The writer is usable again.
    db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES(?)", "ok"); });
    CHECK(db.read(count_items) == 2);
  }
  SECTION("read connections are read-only") {
    try {
      db.read([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('x')"); });
      FAIL("expected SQLITE_READONLY");
    } catch (const store::Error& e) {
      CHECK(e.primary_code() == SQLITE_READONLY);
    }
  }
  SECTION("write() inside write() on the same thread is refused, not a deadlock") {
    CHECK_THROWS_AS(db.write([&](Connection&) { db.write([](Connection&) {}); }), store::Error);
    CHECK_NOTHROW(db.write([](Connection&) {}));
  }
}

TEST_CASE("a read() block sees one consistent snapshot", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  db.migrate(kSchema);
  db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('a')"); });

  const auto [before, after, latest] = db.read([&](Connection& c) {
    const std::int64_t first = count_items(c);
    std::thread writer([&] { db.write([](Connection& w) { w.execute("INSERT INTO items(name) VALUES('b')"); }); });
    writer.join();  // committed while our snapshot is open
    const std::int64_t second = count_items(c);
    const std::int64_t fresh = db.read(count_items);  // another reader, new snapshot
    return std::tuple(first, second, fresh);
  });
  CHECK(before == 1);
  CHECK(after == 1);
  CHECK(latest == 2);
  CHECK(db.read(count_items) == 2);
}

TEST_CASE("connections run in WAL with foreign keys and the chosen synchronous level", "[store][database]") {
  store_test::TempDir dir;
  SECTION("defaults: WAL, FULL") {
    Database db(dir / "app.db");
    db.migrate(kSchema);
    CHECK(db.write([](Connection& c) { return c.query_text("PRAGMA journal_mode"); }) == "wal");
    CHECK(db.read([](Connection& c) { return c.query_text("PRAGMA journal_mode"); }) == "wal");
    CHECK(db.write([](Connection& c) { return c.query_int("PRAGMA synchronous"); }) == 2);
    CHECK(db.read([](Connection& c) { return c.query_int("PRAGMA foreign_keys"); }) == 1);
    CHECK(std::filesystem::exists(dir / "app.db-wal"));

    try {
      db.write([](Connection& c) { c.execute("INSERT INTO pets(owner_id) VALUES(?)", 7); });
      FAIL("expected a foreign key violation");
    } catch (const store::Error& e) {
      CHECK(e.code() == SQLITE_CONSTRAINT_FOREIGNKEY);
    }
    db.write([](Connection& c) {
      c.execute("INSERT INTO owners(id) VALUES(7)");
      c.execute("INSERT INTO pets(owner_id) VALUES(?)", 7);
    });
    CHECK_THROWS_AS(db.write([](Connection& c) { c.execute("DELETE FROM owners"); }), store::Error);
  }
  SECTION("synchronous NORMAL on request") {
    Database db(dir / "fast.db", {.read_connections = 1, .synchronous_full = false});
    CHECK(db.write([](Connection& c) { return c.query_int("PRAGMA synchronous"); }) == 1);
  }
  SECTION("invalid options are refused") {
    CHECK_THROWS_AS(Database(dir / "bad.db", {.read_connections = 0}), store::Error);
  }
}

TEST_CASE("one writer and many readers from several threads", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "app.db", {.read_connections = 2});  // fewer readers than threads: they wait
  db.migrate(kSchema);

  constexpr int kThreads = 4;
  constexpr int kOps = 200;
  std::atomic<int> failures{0};
  std::atomic<int> writes{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::int64_t last_seen = 0;
      for (int i = 0; i < kOps; ++i) {
        try {
          if (i % 4 == 0) {
            db.write([&](Connection& c) {
              c.execute("INSERT INTO items(name) VALUES(?)", "t" + std::to_string(t) + "-" + std::to_string(i));
            });
            ++writes;
          } else {
            const std::int64_t seen = db.read(count_items);
            if (seen < last_seen) ++failures;  // commits never disappear
            last_seen = seen;
          }
        } catch (const std::exception& e) {
          UNSCOPED_INFO(e.what());
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(writes == kThreads * kOps / 4);
  CHECK(db.read(count_items) == writes);
}

TEST_CASE("a second process-level writer gets is_busy after the busy timeout", "[store][database]") {
  store_test::TempDir dir;
  Database first(dir / "app.db", {.read_connections = 1});
  first.migrate(kSchema);
  Database second(dir / "app.db", {.read_connections = 1, .busy_timeout_ms = 50});
  bool busy = false;
  first.write([&](Connection& c) {
    c.execute("INSERT INTO items(name) VALUES('held')");
    std::thread other([&] {
      try {
        second.write([](Connection&) {});
      } catch (const store::Error& e) {
        busy = e.is_busy();
      }
    });
    other.join();
  });
  CHECK(busy);
}

TEST_CASE("backup_to copies a consistent snapshot while writes continue", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  db.migrate(kSchema);
  // Enough data (about 12 MB) that the backup takes several steps.
  db.write([](Connection& c) {
    const std::string payload(8000, 'x');
    for (int i = 0; i < 1500; ++i) {
      c.execute("INSERT INTO items(name, payload) VALUES(?, ?)", "bulk" + std::to_string(i), store::Blob{payload});
    }
  });

  std::atomic<bool> stop{false};
  std::atomic<int> pairs{0};
  std::thread writer([&] {
    for (int i = 0; i < 20000 && !stop; ++i) {
      db.write([&](Connection& c) {  // rows arrive in pairs: a snapshot never holds half a pair
        c.execute("INSERT INTO items(name) VALUES(?)", "a" + std::to_string(i));
        c.execute("INSERT INTO items(name) VALUES(?)", "b" + std::to_string(i));
      });
      ++pairs;
    }
  });
  while (pairs < 20) std::this_thread::yield();
  const auto backup = dir / "backups" / "app-backup.db";
  db.backup_to(backup);
  const int pairs_after_backup = pairs;
  while (pairs < pairs_after_backup + 20) std::this_thread::yield();  // writes went on
  stop = true;
  writer.join();

  Database copy(backup, {.read_connections = 1});
  const auto [rows, integrity] =
      copy.read([](Connection& c) { return std::pair(count_items(c), c.query_text("PRAGMA integrity_check")); });
  CHECK(integrity == "ok");
  CHECK(rows >= 1500 + 2 * 20);
  CHECK((rows - 1500) % 2 == 0);
  CHECK(rows < db.read(count_items));
  CHECK(copy.applied_versions() == std::vector<int>{1, 2});
  for (const auto& entry : std::filesystem::directory_iterator(dir / "backups")) {
    CHECK(entry.path().filename().string().rfind("app-backup.db", 0) == 0);  // no temp leftovers
  }
}

TEST_CASE("ping, checkpoint and the query observer", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "app.db");
  db.migrate(kSchema);
  CHECK(db.ping());

  std::atomic<int> calls{0};
  std::atomic<bool> non_negative{true};
  db.set_query_observer([&](double seconds) {
    ++calls;
    if (seconds < 0) non_negative = false;
  });
  db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('x')"); });
  db.read(count_items);
  CHECK_THROWS(db.write([](Connection&) { throw std::runtime_error("fails"); }));
  CHECK(calls == 3);
  CHECK(non_negative);

  db.set_query_observer([](double) { throw std::runtime_error("broken metrics"); });
  CHECK_NOTHROW(db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('y')"); }));
  db.set_query_observer(nullptr);

  db.checkpoint();
  CHECK(std::filesystem::file_size(dir / "app.db-wal") == 0);
  CHECK(db.read(count_items) == 2);
}

TEST_CASE("data_version moves with every commit; foreign_commits only with other connections'", "[store][database]") {
  store_test::TempDir dir;
  Database db(dir / "app.db", {.read_connections = 1});
  db.migrate(kSchema);
  const auto version = db.data_version();
  const auto foreign = db.foreign_commits();
  CHECK(db.data_version() == version);  // reading changes nothing
  db.read([](Connection& c) { count_items(c); });
  CHECK(db.data_version() == version);

  db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('own')"); });
  const auto after_own = db.data_version();
  CHECK(after_own != version);
  CHECK(db.foreign_commits() == foreign);  // our own commit is not foreign

  db.write([](Connection&) {});  // an empty commit moves nothing
  CHECK(db.data_version() == after_own);
  CHECK(db.foreign_commits() == foreign);

  SECTION("a commit by another connection is noticed by the next check") {
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((dir / "app.db").c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "INSERT INTO items(name) VALUES('theirs')", nullptr, nullptr, nullptr) == SQLITE_OK);
    CHECK(db.data_version() != after_own);
    const auto seen = db.foreign_commits();
    CHECK(seen > foreign);
    CHECK(db.foreign_commits() == seen);  // counted once
    db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('own again')"); });
    CHECK(db.foreign_commits() == seen);
    sqlite3_close(other);
  }

  SECTION("a commit by another connection just before our own write is not hidden by it") {
    Database second(dir / "app.db", {.read_connections = 1});
    second.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('second')"); });
    db.write([](Connection& c) { c.execute("INSERT INTO items(name) VALUES('first')"); });
    CHECK(db.foreign_commits() > foreign);
  }

  SECTION("a checkpoint is not a change") {
    db.checkpoint();
    CHECK(db.data_version() == after_own);
    CHECK(db.foreign_commits() == foreign);
  }
}
