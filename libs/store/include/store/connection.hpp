#pragma once
// store::Connection: one SQLite connection with a prepared-statement cache.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/statement.hpp"

struct sqlite3;

namespace store {

struct ConnectionOptions {
  bool read_only = false;        // SQLITE_OPEN_READONLY; the file must already exist in WAL mode
  int busy_timeout_ms = 5000;    // how long a locked database is retried before SQLITE_BUSY
  bool synchronous_full = true;  // FULL survives power loss; NORMAL (WAL) only survives kill -9
};

class Connection;

// A statement checked out of a Connection's cache. While a Query lives, nobody else gets its
// Statement (a second prepare of the same SQL compiles a private copy); on destruction the
// statement is reset, its bindings cleared, and it goes back to the cache.
// A Query must be destroyed before the Connection that made it.
class Query {
 public:
  Query(Query&& other) noexcept = default;
  Query& operator=(Query&& other) noexcept;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Statement& operator*() const noexcept { return *stmt_; }
  Statement* operator->() const noexcept { return stmt_.get(); }

 private:
  friend class Connection;
  Query(Connection& owner, std::unique_ptr<Statement> stmt) noexcept;
  void release() noexcept;

  Connection* owner_ = nullptr;
  std::unique_ptr<Statement> stmt_;
};

// One sqlite3 handle, opened with SQLITE_OPEN_NOMUTEX: use it from one thread at a time.
class Connection {
 public:
  // Opens (read-write: creates) `file`; a writer switches to WAL and verifies it, sets
  // synchronous, and every connection gets foreign_keys=ON and the busy timeout. Throws Error.
  explicit Connection(const std::filesystem::path& file, ConnectionOptions options = {});
  // The same interface over one PostgreSQL session (store::Database on DATABASE_URL lends
  // these inside its transactions): statements as Statement(pg::Connection&, sql) describes,
  // exec() runs a script, changes() counts the rows of the last statement, and
  // last_insert_rowid() and handle() are SQLite only (use RETURNING).
  explicit Connection(pg::Connection& session) noexcept : pg_(&session) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns the cached statement for this exact SQL text (compiled on first use), reset and cleared.
  Query prepare(std::string_view sql);
  // Runs an SQL script (any number of statements, no results); throws Error on the first failure.
  void exec(std::string_view sql);

  // Rowid of the most recent successful INSERT on this connection (SQLite; throws on PostgreSQL).
  std::int64_t last_insert_rowid() const;
  // True on the PostgreSQL backend, for the statements whose SQL differs.
  bool postgres() const noexcept { return pg_ != nullptr; }
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int changes() const noexcept;
  // True while an explicit transaction (BEGIN ...) is open.
  bool in_transaction() const noexcept;
  // Number of statements currently parked in the cache (checked-out ones are not counted).
  std::size_t cached_statements() const noexcept { return cache_.size(); }
  // The underlying handle, for APIs libstore does not wrap.
  sqlite3* handle() const noexcept { return db_; }

  // First column of the first row, or nullopt when there is no row or it is NULL.
  template <class... A>
  std::optional<std::int64_t> query_int(std::string_view sql, A&&... args);
  // First column of the first row as text, or nullopt when there is no row or it is NULL.
  template <class... A>
  std::optional<std::string> query_text(std::string_view sql, A&&... args);
  // Runs one statement to completion (rows, e.g. RETURNING, are discarded); returns changes().
  template <class... A>
  int execute(std::string_view sql, A&&... args);

 private:
  friend class Query;
  void configure(const ConnectionOptions& options);
  std::string pragma_text(const char* sql);
  void give_back(std::unique_ptr<Statement> stmt) noexcept;

  sqlite3* db_ = nullptr;
  pg::Connection* pg_ = nullptr;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
};

// An explicit transaction on one connection: begins on construction, rolls back on
// destruction unless commit() succeeded. commit() throws Error (and the destructor then
// rolls back) if SQLite refuses the commit, e.g. a deferred foreign-key violation.
class Transaction {
 public:
  enum class Kind { deferred, immediate };
  Transaction(Connection& connection, Kind kind);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

template <class... A>
std::optional<std::int64_t> Connection::query_int(std::string_view sql, A&&... args) {
  Query q = prepare(sql);
  q->bind_all(std::forward<A>(args)...);
  if (!q->step()) return std::nullopt;
  return q->int64_or_null(0);
}

template <class... A>
std::optional<std::string> Connection::query_text(std::string_view sql, A&&... args) {
  Query q = prepare(sql);
  q->bind_all(std::forward<A>(args)...);
  if (!q->step()) return std::nullopt;
  return q->text_or_null(0);
}

template <class... A>
int Connection::execute(std::string_view sql, A&&... args) {
  Query q = prepare(sql);
  q->bind_all(std::forward<A>(args)...);
  while (q->step()) {
  }
  return changes();
}

}  // namespace store
