#pragma once
// store::Database: one SQLite file with a serialised writer and a pool of read connections.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/connection.hpp"
#include "store/error.hpp"
#include "store/migration.hpp"
#include "store/pg.hpp"

namespace store {

struct DatabaseOptions {
  int read_connections = 4;      // size of the read pool, >= 1
  int busy_timeout_ms = 5000;    // per connection; also how long ping() waits for a reader
  bool synchronous_full = true;  // false = synchronous=NORMAL: survives kill -9, not power loss
};

// The PostgreSQL backend of a Database (DATABASE_URL=postgres://...).
struct PostgresTarget {
  std::string url;
  pg::PoolOptions pool;
};

class Database {
 public:
  using Options = DatabaseOptions;
  using QueryObserver = std::function<void(double seconds)>;

  // Creates missing parent directories, opens the writer (creating the file, switching to
  // WAL) and then the read-only pool. Throws Error.
  explicit Database(std::filesystem::path file, Options options = {});
  // The same interface on PostgreSQL (decision 0030): write() is a SERIALIZABLE transaction
  // repeated on serialization failures (so a block must act on the database only), read() a
  // READ ONLY REPEATABLE READ one, both on a pg::Pool; migrate() holds the advisory lock.
  // There is no file: path() is empty, backup_to() throws (the server's tools back it up),
  // checkpoint() does nothing, and data_version() / foreign_commits() move on every call,
  // because commits by other replicas cannot be seen without a round trip: a cache keyed on
  // them re-reads, which keeps every replica correct.
  explicit Database(PostgresTarget target);
  bool postgres() const noexcept { return pg_ != nullptr; }
  // The DATABASE_URL on PostgreSQL ("" on SQLite), e.g. for a pg::Leadership of the same database.
  const std::string& url() const noexcept { return url_; }
  // Closes readers then the writer (SQLite checkpoints and removes the WAL on the last close).
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs f(Connection&) in BEGIN IMMEDIATE ... COMMIT under the writer mutex and returns its
  // result only after COMMIT succeeded (durable per Options::synchronous_full). If f throws or
  // COMMIT fails, everything is rolled back and the exception propagates. Calling write()
  // from inside write() on the same thread throws Error instead of deadlocking.
  template <class F>
  auto write(F&& f) -> std::invoke_result_t<F&, Connection&>;
  // The same at READ COMMITTED on PostgreSQL, for a block that locks the rows it depends on
  // (see pg::Isolation); on SQLite the same as write() (one writer at a time already).
  template <class F>
  auto write_locking(F&& f) -> std::invoke_result_t<F&, Connection&>;

  // Borrows a read-only connection (waits while all are busy) and runs f(Connection&) in one
  // read transaction, so every query in f sees the same committed snapshot (taken at its first
  // query). Inside write() it does not see the uncommitted writes; nesting read() in read()
  // needs a second free connection and waits for one.
  template <class F>
  auto read(F&& f) -> std::invoke_result_t<F&, Connection&>;

  // Applies, in ascending order, every migration newer than the newest applied one, each in
  // its own transaction together with its schema_migrations row. Throws Error (applying
  // nothing) if the list has duplicate/non-increasing versions, if the database holds a
  // version the list lacks (a newer schema than this binary), or if a listed version older
  // than the newest applied one was never applied. A failing migration is rolled back
  // entirely; those before it stay applied.
  void migrate(std::span<const Migration> migrations);
  // Versions recorded in schema_migrations, ascending (empty before the first migrate()).
  std::vector<int> applied_versions();

  // True when a read connection can read the file (a query on sqlite_schema) within busy_timeout_ms; never throws.
  bool ping() noexcept;
  // Writes a consistent snapshot to `dest` (via a temporary file in the same directory and an
  // atomic rename) with the online backup API; writers are not blocked. Throws Error.
  void backup_to(const std::filesystem::path& dest);
  // Copies the WAL into the database and truncates it (for graceful shutdown). Throws Error,
  // is_busy() when readers kept it from completing within the busy timeout.
  void checkpoint();
  std::filesystem::path path() const { return file_; }

  // Grows with every commit to the file, by this Database or any other connection (another
  // process, an import command, the sqlite3 shell): equal values mean nothing was committed in
  // between. Read from the WAL index in shared memory without a lock or a system call, so a
  // cache can check it on every request (take it before reading what you cache).
  std::uint64_t data_version() noexcept;
  // How many times a commit by another connection has been noticed since this Database
  // opened (it may count more, never fewer). Same cost as data_version(). A cache of data this
  // process writes itself drops entries its own writes change and treats a new value here as
  // "anything may have changed"; commits of this Database do not move it.
  std::uint64_t foreign_commits() noexcept;

  // Called after every write()/read() block (also failed ones) with its duration in seconds,
  // including the wait for the writer lock or a read connection. Exceptions from it are ignored.
  void set_query_observer(QueryObserver observer);

 private:
  // Times one block and reports to the observer when it goes out of scope.
  class Stopwatch {
   public:
    explicit Stopwatch(const Database& db) : db_(db), start_(std::chrono::steady_clock::now()) {}
    ~Stopwatch() { db_.observe(start_); }
    Stopwatch(const Stopwatch&) = delete;
    Stopwatch& operator=(const Stopwatch&) = delete;

   private:
    const Database& db_;
    std::chrono::steady_clock::time_point start_;
  };

  // Holds the writer mutex; refuses re-entry from the thread that already holds it.
  class WriterLock {
   public:
    explicit WriterLock(Database& db);
    ~WriterLock();
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

   private:
    Database& db_;
  };

  // A read connection borrowed from the pool and returned on destruction.
  class ReadLease {
   public:
    explicit ReadLease(Database& db);                            // waits as long as needed
    ReadLease(Database& db, std::chrono::milliseconds timeout);  // may come back empty
    ~ReadLease();
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;
    explicit operator bool() const noexcept { return connection_ != nullptr; }
    Connection& connection() const noexcept { return *connection_; }

   private:
    Database& db_;
    Connection* connection_ = nullptr;
  };

  // Group commit: concurrent write() calls are queued; one caller at a time leads, running
  // every queued block in one transaction (each inside its own SAVEPOINT, so a block that
  // throws undoes only itself) and committing once, so many writers share one fsync. Each
  // caller returns only after the commit that holds its block.
  struct PendingWrite {
    const std::function<void(Connection&)>* block = nullptr;
    std::exception_ptr error;
    bool done = false;
  };
  void run_write(const std::function<void(Connection&)>& block);
  void commit_batch(const std::vector<PendingWrite*>& batch);
  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::vector<PendingWrite*> queue_;
  bool leading_ = false;

  // Commit counter of the WAL index (its header in the -shm file, mapped read-only).
  class WalIndex;
  std::unique_ptr<WalIndex> wal_index_;
  std::atomic<std::uint32_t> expected_change_{0};  // the counter after the last commit we know of
  std::atomic<std::uint64_t> foreign_{0};
  std::atomic<bool> committing_{false};              // between our COMMIT and expected_change_ update
  std::atomic<std::uint32_t> last_change_{0};       // the counter data_version() saw last
  std::atomic<std::uint64_t> version_{0};            // data_version(): +1 whenever the counter moved
  void note_foreign_commits(std::uint32_t now) noexcept;

  void observe(std::chrono::steady_clock::time_point start) const noexcept;
  void apply_migration(const Migration& migration);

  std::filesystem::path file_;
  Options options_;
  std::string url_;
  std::unique_ptr<pg::Pool> pg_;

  std::unique_ptr<Connection> writer_;
  std::mutex writer_mutex_;
  std::atomic<std::thread::id> writer_thread_{};

  std::vector<std::unique_ptr<Connection>> readers_;
  std::vector<Connection*> idle_readers_;
  std::mutex readers_mutex_;
  std::condition_variable reader_returned_;

  mutable std::mutex observer_mutex_;
  std::shared_ptr<const QueryObserver> observer_;
};

template <class F>
auto Database::write_locking(F&& f) -> std::invoke_result_t<F&, Connection&> {
  using Result = std::invoke_result_t<F&, Connection&>;
  if (!pg_) return write(std::forward<F>(f));
  Stopwatch watch(*this);
  return pg_->write(
      [&](pg::Connection& session) -> Result {
        Connection c(session);
        return std::invoke(f, c);
      },
      pg::Isolation::read_committed);
}

template <class F>
auto Database::write(F&& f) -> std::invoke_result_t<F&, Connection&> {
  using Result = std::invoke_result_t<F&, Connection&>;
  Stopwatch watch(*this);
  if (pg_) {
    return pg_->write([&](pg::Connection& session) -> Result {
      Connection c(session);
      return std::invoke(f, c);
    });
  }
  if constexpr (std::is_void_v<Result>) {
    run_write([&](Connection& c) { std::invoke(f, c); });
  } else {
    std::optional<Result> result;
    run_write([&](Connection& c) { result.emplace(std::invoke(f, c)); });
    return std::move(*result);
  }
}

template <class F>
auto Database::read(F&& f) -> std::invoke_result_t<F&, Connection&> {
  using Result = std::invoke_result_t<F&, Connection&>;
  Stopwatch watch(*this);
  if (pg_) {
    return pg_->read([&](pg::Connection& session) -> Result {
      Connection c(session);
      return std::invoke(f, c);
    });
  }
  ReadLease lease(*this);
  Transaction tx(lease.connection(), Transaction::Kind::deferred);
  if constexpr (std::is_void_v<Result>) {
    std::invoke(f, lease.connection());
    tx.commit();
  } else {
    Result result = std::invoke(f, lease.connection());
    tx.commit();
    return result;
  }
}

}  // namespace store
