#pragma once
// store::pg: the PostgreSQL backend of libstore (libpq): connections with statements prepared
// per connection, a pool with health checks and reconnect, transactions that return only after
// COMMIT (serializable writes retried on serialization failures), and migrations recorded in
// schema_migrations, applied under an advisory lock so replicas take turns.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/error.hpp"
#include "store/migration.hpp"

struct pg_conn;
struct pg_result;

namespace store::pg {

// True for "postgres://" and "postgresql://" URLs (the DATABASE_URL switch).
bool is_postgres_url(std::string_view url) noexcept;

// A PostgreSQL error as a store::Error: its code is the nearest SQLite family (constraint
// violations answer is_constraint(), serialization failures and deadlocks is_busy()), and
// sqlstate() keeps the five-character SQLSTATE ("" when the server was not reached).
class Error : public store::Error {
 public:
  Error(std::string sqlstate, const std::string& message);
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // 40001 serialization_failure or 40P01 deadlock_detected: the transaction may be repeated.
  bool is_serialization_failure() const noexcept;
  // No answer from the server (connection refused, closed, reset).
  bool is_connection_lost() const noexcept { return sqlstate_.empty() || sqlstate_.starts_with("08"); }

 private:
  std::string sqlstate_;
};

// One parameter in text format; nullopt is NULL.
using Param = std::optional<std::string>;
Param to_param(std::nullopt_t);
Param to_param(bool value);
Param to_param(int value);
Param to_param(std::int64_t value);
Param to_param(double value);
Param to_param(std::string_view text);
Param to_param(const char* text);
Param to_param(const std::string& text);
template <class T>
Param to_param(const std::optional<T>& value) {
  return value ? to_param(*value) : std::nullopt;
}

// The rows of one statement (text format).
class Result {
 public:
  explicit Result(pg_result* result) noexcept : result_(result) {}
  ~Result();
  Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const noexcept;
  int columns() const noexcept;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;  // NULL reads as ""
  std::int64_t int64(int row, int column) const;  // NULL reads as 0
  std::optional<std::int64_t> int64_or_null(int row, int column) const;
  int affected() const noexcept;  // rows changed by INSERT/UPDATE/DELETE
  std::string column_name(int column) const;
  std::string command() const;    // the command tag, e.g. "COMMIT", "INSERT 0 1"

 private:
  void check(int row, int column) const;
  pg_result* result_;
};

// A NOTIFY received by a listening session (sent with pg_notify(channel, payload)).
struct Notification {
  std::string channel;
  std::string payload;
};

struct ConnectionOptions {
  int statement_timeout_ms = 30000;  // 0 = none; set on every (re)connect
};

// One libpq connection; use it from one thread at a time.
class Connection {
 public:
  // Connects to `url` (libpq URI or key=value string); throws Error when the server is unreachable.
  explicit Connection(std::string url, ConnectionOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with $1..$N parameters. The first use of an SQL text on this connection
  // prepares it (PQprepare); later uses only execute it. Throws Error.
  Result query(std::string_view sql, std::span<const Param> params);
  template <class... A>
  Result query(std::string_view sql, A&&... args) {
    const std::vector<Param> params{to_param(std::forward<A>(args))...};
    return query(sql, std::span<const Param>(params));
  }
  // The same with declared parameter types (OIDs, 0 = let the server infer), one per
  // parameter; the statement is prepared once per SQL text and type list.
  Result query(std::string_view sql, std::span<const Param> params, std::span<const unsigned> types);
  // Rows changed by the last statement run through query().
  int last_affected() const noexcept { return last_affected_; }
  // First column of the first row, or nullopt when there is no row or it is NULL.
  template <class... A>
  std::optional<std::int64_t> query_int(std::string_view sql, A&&... args) {
    const Result r = query(sql, std::forward<A>(args)...);
    return r.rows() == 0 ? std::nullopt : r.int64_or_null(0, 0);
  }
  // Runs an SQL script (any number of statements, no parameters, no results). Throws Error.
  void exec(std::string_view script);

  // LISTEN on `channel` (an identifier: letters, digits, '_'); throws Error otherwise.
  void listen(std::string_view channel);
  // The next notification for a channel this session listens on, waiting up to `timeout`;
  // nullopt when none arrived. Throws Error when the session is lost.
  std::optional<Notification> wait_notification(std::chrono::milliseconds timeout);

  // True when the connection is up and answers a round trip; never throws.
  bool healthy() noexcept;
  // Drops the session and connects again (the prepared statements go with it). Throws Error.
  void reconnect();
  // True while a transaction block is open (BEGIN without COMMIT/ROLLBACK yet).
  bool in_transaction() const noexcept;
  std::size_t prepared_statements() const noexcept { return prepared_.size(); }
  pg_conn* handle() const noexcept { return conn_; }

 private:
  void connect();
  void prepare(const std::string& name, const std::string& sql, std::span<const Param> params,
               std::span<const unsigned> types);
  std::string url_;
  ConnectionOptions options_;
  pg_conn* conn_ = nullptr;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL (+ types) -> statement name
  int last_affected_ = 0;
};

// How much a write() transaction isolates itself. serializable suits blocks that read, decide
// and write; read_committed suits blocks that take the row locks they depend on themselves
// (SELECT ... FOR UPDATE, INSERT ... ON CONFLICT), so that writers of one hot row wait for each
// other instead of failing with 40001 (decision 0041).
enum class Isolation { serializable, read_committed };

struct PoolOptions {
  int size = 8;                                        // connections, opened on demand
  int statement_timeout_ms = 30000;                    // per statement, on every connection
  int serialization_retries = 5;                       // repeats of a write() after 40001/40P01
  std::chrono::milliseconds acquire_timeout{5000};     // wait for a free connection
};

// A bounded set of connections to one database. Connections are opened on demand; a borrowed
// connection found broken is reconnected before use, so a server restart heals by itself.
class Pool {
 public:
  explicit Pool(std::string url, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs f(Connection&) in a SERIALIZABLE transaction and returns its result only after
  // COMMIT succeeded. If f throws, the transaction is rolled back and the exception
  // propagates. A serialization failure or deadlock, or a connection lost before COMMIT was
  // sent, repeats f in a new transaction (at most serialization_retries times), so f must
  // have no effect outside the database. A connection lost during COMMIT is not repeated
  // (the outcome is unknown) and throws Error. read_committed runs the same way at READ
  // COMMITTED (a block may throw Error("40001") itself to be repeated, e.g. after it lost a
  // race for a unique key).
  template <class F>
  auto write(F&& f, Isolation isolation = Isolation::serializable) -> std::invoke_result_t<F&, Connection&>;
  // Runs f(Connection&) in a READ ONLY REPEATABLE READ transaction (one snapshot).
  template <class F>
  auto read(F&& f) -> std::invoke_result_t<F&, Connection&>;

  // Applies the migrations newer than the newest applied one, each in its own transaction
  // with its schema_migrations row, holding pg_advisory_lock so that replicas starting
  // together apply them once. Same checks and errors as store::Database::migrate.
  void migrate(std::span<const Migration> migrations);
  std::vector<int> applied_versions();
  // True when a connection answers a round trip within acquire_timeout; never throws.
  bool ping() noexcept;
  // Connections opened so far (idle and borrowed).
  int open_connections();

  // A connection borrowed from the pool, given back on destruction (or dropped when broken).
  class Lease {
   public:
    explicit Lease(Pool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }

   private:
    Pool& pool_;
    std::unique_ptr<Connection> connection_;
  };

 private:
  enum class Outcome { committed, retry };
  Outcome run_write(const std::function<void(Connection&)>& block, Isolation isolation, bool last_attempt);
  void run_read(const std::function<void(Connection&)>& block);
  // Closes every idle connection (after a lost session: they lead to the same server).
  void drop_idle() noexcept;
  void apply_migration(Connection& c, const Migration& m);

  std::string url_;
  PoolOptions options_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

// Leadership of one background job among replicas: a session-level pg_try_advisory_lock on a
// connection of its own. The server releases the lock when that session ends, so when the
// leading process dies (kill -9 closes its socket) the next try_lead() of another replica
// wins. Call try_lead() before each round of the job; use from one thread.
class Leadership {
 public:
  Leadership(std::string url, std::int64_t key);
  // True when this replica holds the lock after the call: keeps it if the session is still
  // alive, else (re)connects and tries to take it. Never throws (unreachable server = false).
  bool try_lead() noexcept;
  bool leading() const noexcept { return leading_; }

 private:
  std::string url_;
  std::int64_t key_;
  std::unique_ptr<Connection> connection_;
  bool leading_ = false;
};

template <class F>
auto Pool::write(F&& f, Isolation isolation) -> std::invoke_result_t<F&, Connection&> {
  using Result = std::invoke_result_t<F&, Connection&>;
  std::optional<std::conditional_t<std::is_void_v<Result>, bool, Result>> result;
  const std::function<void(Connection&)> block = [&](Connection& c) {
    if constexpr (std::is_void_v<Result>) {
      std::invoke(f, c);
      result.emplace(true);
    } else {
      result.emplace(std::invoke(f, c));
    }
  };
  for (int attempt = 0;; ++attempt) {
    result.reset();
    if (run_write(block, isolation, attempt >= options_.serialization_retries) == Outcome::committed) break;
  }
  if constexpr (!std::is_void_v<Result>) return std::move(*result);
}

template <class F>
auto Pool::read(F&& f) -> std::invoke_result_t<F&, Connection&> {
  using Result = std::invoke_result_t<F&, Connection&>;
  if constexpr (std::is_void_v<Result>) {
    run_read([&](Connection& c) { std::invoke(f, c); });
  } else {
    std::optional<Result> result;
    run_read([&](Connection& c) { result.emplace(std::invoke(f, c)); });
    return std::move(*result);
  }
}

}  // namespace store::pg
