#include "store/connection.hpp"

#include <sqlite3.h>

#include "private_file.hpp"
#include "store/pg.hpp"
#include "sqlite_error.hpp"

namespace store {
namespace {

// Beyond this many parked statements, returned ones are finalized instead of cached, so SQL
// built at run time (e.g. variable IN lists) cannot grow the cache without bound.
constexpr std::size_t kMaxCachedStatements = 256;

// Opens the file with the flags libstore uses; closes the handle and throws Error on failure.
sqlite3* open_handle(const std::filesystem::path& file, bool read_only) {
  const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                    (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!read_only) detail::make_private(file);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message =
        "open " + file.string() + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    throw Error(rc, message);
  }
  return db;
}

}  // namespace

// ---- Query ----

Query::Query(Connection& owner, std::unique_ptr<Statement> stmt) noexcept : owner_(&owner), stmt_(std::move(stmt)) {}

Query& Query::operator=(Query&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    stmt_ = std::move(other.stmt_);
  }
  return *this;
}

Query::~Query() { release(); }

void Query::release() noexcept {
  if (stmt_ != nullptr && owner_ != nullptr) owner_->give_back(std::move(stmt_));
}

// ---- Connection ----

Connection::Connection(const std::filesystem::path& file, ConnectionOptions options)
    : db_(open_handle(file, options.read_only)) {
  try {
    configure(options);
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

Connection::~Connection() {
  cache_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

void Connection::configure(const ConnectionOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  detail::check(db_, sqlite3_busy_timeout(db_, options.busy_timeout_ms), "busy_timeout");
  exec("PRAGMA foreign_keys=ON");
  if (pragma_text("PRAGMA foreign_keys") != "1") {
    throw Error(SQLITE_ERROR, "foreign_keys=ON did not take effect");
  }
  if (options.read_only) return;
  const std::string mode = pragma_text("PRAGMA journal_mode=WAL");
  if (mode != "wal") throw Error(SQLITE_ERROR, "journal_mode=WAL refused, mode is " + mode);
  exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  const std::string expected = options.synchronous_full ? "2" : "1";
  if (pragma_text("PRAGMA synchronous") != expected) {
    throw Error(SQLITE_ERROR, "synchronous setting did not take effect");
  }
}

std::string Connection::pragma_text(const char* sql) {
  Statement stmt(db_, sql);  // not cached: configuration runs once
  if (!stmt.step()) throw Error(SQLITE_ERROR, std::string(sql) + " returned no row");
  return stmt.text(0);
}

Query Connection::prepare(std::string_view sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end()) {
    return Query(*this, pg_ ? std::make_unique<Statement>(*pg_, sql) : std::make_unique<Statement>(db_, sql));
  }
  std::unique_ptr<Statement> stmt = std::move(found->second);
  cache_.erase(found);
  return Query(*this, std::move(stmt));
}

void Connection::give_back(std::unique_ptr<Statement> stmt) noexcept {
  stmt->reset();
  if (cache_.size() >= kMaxCachedStatements) return;
  try {
    cache_.try_emplace(stmt->sql(), std::move(stmt));  // keeps the parked copy if one exists
  } catch (...) {
    // Out of memory: the statement is simply finalized.
  }
}

void Connection::exec(std::string_view sql) {
  if (pg_) return pg_->exec(sql);
  const std::string script(sql);
  char* raw_message = nullptr;
  const int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &raw_message);
  if (rc == SQLITE_OK) return;
  const std::string message = raw_message != nullptr ? raw_message : sqlite3_errstr(rc);
  sqlite3_free(raw_message);
  throw Error(sqlite3_extended_errcode(db_), "exec: " + message);
}

std::int64_t Connection::last_insert_rowid() const {
  if (pg_) throw Error(SQLITE_MISUSE, "last_insert_rowid is SQLite only: use RETURNING");
  return sqlite3_last_insert_rowid(db_);
}

int Connection::changes() const noexcept { return pg_ ? pg_->last_affected() : sqlite3_changes(db_); }

bool Connection::in_transaction() const noexcept {
  return pg_ ? pg_->in_transaction() : sqlite3_get_autocommit(db_) == 0;
}

// ---- Transaction ----

Transaction::Transaction(Connection& connection, Kind kind) : connection_(connection) {
  connection_.prepare(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")->step();
}

Transaction::~Transaction() {
  if (!open_ || !connection_.in_transaction()) return;  // SQLite may have rolled back already
  try {
    connection_.prepare("ROLLBACK")->step();
  } catch (...) {
    // Nothing better to do: an open transaction is rolled back when the connection closes.
  }
}

void Transaction::commit() {
  if (!open_) throw Error(SQLITE_MISUSE, "commit: transaction already finished");
  connection_.prepare("COMMIT")->step();
  open_ = false;
}

}  // namespace store
