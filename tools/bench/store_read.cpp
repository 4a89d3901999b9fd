// libstore read path against raw SQLite, measured in the same run: the per-request cost of
// auth-server's GET /api/auth/me is one store::Database::read around one SELECT by primary key.
//
// Rows (microseconds per read, 1 and 2 threads; each thread its own connection for the raw rows):
//   raw autocommit      sqlite3_step of one persistent prepared SELECT (the reference)
//   raw BEGIN/COMMIT    the same SELECT between BEGIN DEFERRED and COMMIT (what read() runs)
//   store read()        Database::read: pool checkout, statement cache, transaction, observer
//
// Built with the tests (target store-read-bench); run from the repository root:
//   build/tests/store-read-bench [reads-per-thread]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace {

constexpr const char* kSelect = "SELECT id, email, name, role, tier, n FROM u WHERE id = ? AND n >= 0";

struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt *select = nullptr, *begin = nullptr, *commit = nullptr;
  explicit Raw(const std::string& file) {
    sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    sqlite3_prepare_v3(db, kSelect, -1, SQLITE_PREPARE_PERSISTENT, &select, nullptr);
    sqlite3_prepare_v3(db, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT, &begin, nullptr);
    sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, nullptr);
  }
  ~Raw() {
    for (auto* s : {select, begin, commit}) sqlite3_finalize(s);
    sqlite3_close(db);
  }
  long one() {
    sqlite3_bind_text(select, 1, "usr_500", -1, SQLITE_STATIC);
    sqlite3_step(select);
    long v = sqlite3_column_int64(select, 5);
    sqlite3_reset(select);
    return v;
  }
  static void run(sqlite3_stmt* s) {
    sqlite3_step(s);
    sqlite3_reset(s);
  }
};

// Microseconds per read with `threads` threads each calling body(thread) `n` times.
double per_read(int threads, int n, const std::function<long(int)>& body) {
  std::vector<std::thread> pool;
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      long sum = 0;
      for (int i = 0; i < n; ++i) sum += body(t);
      if (sum < 0) std::abort();
    });
  for (auto& th : pool) th.join();
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  return us / (static_cast<double>(n) * threads);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  const auto dir = std::filesystem::temp_directory_path() / ("store_read_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string file = (dir / "bench.db").string();
  {
    store::Database db(file);
    db.write([](store::Connection& c) {
      c.exec("CREATE TABLE u (id TEXT PRIMARY KEY, email TEXT, name TEXT, role TEXT, tier TEXT, n INTEGER)");
      for (int i = 0; i < 1000; ++i)
        c.execute("INSERT INTO u VALUES (?, ?, 'Name', 'user', 'community', ?)", "usr_" + std::to_string(i),
                  "e" + std::to_string(i) + "@example.com", i);
    });
    std::printf("| threads | raw autocommit (us/read) | raw BEGIN/COMMIT | store read() | store / raw |\n");
    std::printf("|---|---|---|---|---|\n");
    for (int threads : {1, 2}) {
      std::vector<std::unique_ptr<Raw>> raws;
      for (int t = 0; t < threads; ++t) raws.push_back(std::make_unique<Raw>(file));
      double raw = per_read(threads, n, [&](int t) { return raws[t]->one(); });
      double tx = per_read(threads, n, [&](int t) {
        Raw& r = *raws[t];
        Raw::run(r.begin);
        long v = r.one();
        Raw::run(r.commit);
        return v;
      });
      double st = per_read(threads, n, [&](int) {
        return db.read([](store::Connection& c) {
          auto q = c.prepare(kSelect);
          q->bind_all("usr_500");
          q->step();
          return static_cast<long>(q->int64(5));
        });
      });
      std::printf("| %d | %.2f | %.2f | %.2f | %.2f |\n", threads, raw, tx, st, st / raw);
    }
  }
  std::filesystem::remove_all(dir);
}
