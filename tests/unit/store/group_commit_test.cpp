// store::Database::write under concurrency: blocks from many threads share commits, each
// caller gets its own result, and a block that throws undoes only itself.
#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "temp_dir.hpp"

using store_test::TempDir;

TEST_CASE("group commit: concurrent writers each get their result; a failing block undoes only itself",
          "[store][group_commit]") {
  TempDir dir;
  store::Database db(dir.path() / "g.db");
  db.write([](store::Connection& c) { c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); });

  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int id = t * kPerThread + i + 1;
        try {
          auto rowid = db.write([&](store::Connection& c) {
            c.execute("INSERT INTO t (id, v) VALUES (?, ?)", id, "x");
            if (i % 10 == 9) throw std::runtime_error("block fails after writing");
            return c.last_insert_rowid();
          });
          if (rowid != id) throw std::logic_error("another block's result");
        } catch (const std::runtime_error&) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(failures == kThreads * kPerThread / 10);
  auto count = db.read([](store::Connection& c) { return c.query_int("SELECT count(*) FROM t").value_or(-1); });
  CHECK(count == kThreads * kPerThread - failures);
  // The failed blocks' rows are gone, every other row is there.
  auto failed_rows = db.read([](store::Connection& c) {
    return c.query_int("SELECT count(*) FROM t WHERE (id - 1) % 150 % 10 = 9").value_or(-1);
  });
  CHECK(failed_rows == 0);
}

TEST_CASE("group commit: a constraint error in one block leaves the others committed", "[store][group_commit]") {
  TempDir dir;
  store::Database db(dir.path() / "c.db");
  db.write([](store::Connection& c) { c.exec("CREATE TABLE u (k TEXT PRIMARY KEY)"); });
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        try {
          db.write(
              [&](store::Connection& c) { c.execute("INSERT INTO u (k) VALUES (?)", "key-" + std::to_string(i)); });
        } catch (const store::Error& e) {
          if (e.is_constraint()) ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(conflicts == 300);  // each key once, the three other attempts conflict
  CHECK(db.read([](store::Connection& c) { return c.query_int("SELECT count(*) FROM u").value_or(-1); }) == 100);
}
