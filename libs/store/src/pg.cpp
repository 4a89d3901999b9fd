#include "store/pg.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

namespace store::pg {
namespace {

// Serialises migrations of every replica on one database (any fixed 64-bit key works; this one
// spells "storemig").
constexpr std::int64_t kMigrationLockKey = 0x73746f72656d6967;

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

int sqlite_family(std::string_view sqlstate) noexcept {
  if (sqlstate.starts_with("23")) return SQLITE_CONSTRAINT;
  if (sqlstate == "40001" || sqlstate == "40P01") return SQLITE_BUSY;
  if (sqlstate.empty() || sqlstate.starts_with("08")) return SQLITE_CANTOPEN;
  if (sqlstate == "57014") return SQLITE_INTERRUPT;  // statement timeout or cancel
  return SQLITE_ERROR;
}

std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Takes ownership of `result`; returns it when it succeeded, throws Error otherwise.
Result checked(pg_conn* conn, PGresult* result) {
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(result);
  Result owner(result);
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const bool lost = PQstatus(conn) != CONNECTION_OK;
  const std::string message = result != nullptr ? trimmed(PQresultErrorMessage(result)) : trimmed(PQerrorMessage(conn));
  throw Error(lost || state == nullptr ? "" : state, message.empty() ? trimmed(PQerrorMessage(conn)) : message);
}

void ignore_notice(void*, const char*) {}

void rollback_quietly(Connection& c) noexcept {
  if (PQstatus(c.handle()) != CONNECTION_OK || !c.in_transaction()) return;
  PQclear(PQexec(c.handle(), "ROLLBACK"));
}

// COMMIT of a transaction that already failed answers "ROLLBACK" without an error: treat it as one.
void commit(Connection& c) {
  const Result r = checked(c.handle(), PQexec(c.handle(), "COMMIT"));
  if (r.command() != "COMMIT") throw Error("40000", "the transaction had failed before COMMIT and was rolled back");
}

std::vector<int> recorded_versions(Connection& c) {
  if (c.query_int("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL") == std::nullopt) return {};
  const Result r = c.query("SELECT version FROM schema_migrations ORDER BY version");
  std::vector<int> versions;
  for (int row = 0; row < r.rows(); ++row) versions.push_back(static_cast<int>(r.int64(row, 0)));
  return versions;
}

}  // namespace

bool is_postgres_url(std::string_view url) noexcept {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

Error::Error(std::string sqlstate, const std::string& message)
    : store::Error(sqlite_family(sqlstate), "PostgreSQL" + (sqlstate.empty() ? "" : " " + sqlstate) + ": " + message),
      sqlstate_(std::move(sqlstate)) {}

bool Error::is_serialization_failure() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

// ---- parameters ----

Param to_param(std::nullopt_t) { return std::nullopt; }
Param to_param(bool value) { return std::string(value ? "true" : "false"); }
Param to_param(int value) { return std::to_string(value); }
Param to_param(std::int64_t value) { return std::to_string(value); }
Param to_param(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}
Param to_param(std::string_view text) { return std::string(text); }
Param to_param(const char* text) { return text == nullptr ? Param() : Param(std::string(text)); }
Param to_param(const std::string& text) { return text; }

// ---- Result ----

Result::~Result() { PQclear(result_); }

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int Result::rows() const noexcept { return result_ == nullptr ? 0 : PQntuples(result_); }
int Result::columns() const noexcept { return result_ == nullptr ? 0 : PQnfields(result_); }
std::string Result::command() const {
  const char* tag = result_ == nullptr ? nullptr : PQcmdStatus(result_);
  return tag == nullptr ? "" : tag;
}

int Result::affected() const noexcept {
  const char* n = result_ == nullptr ? nullptr : PQcmdTuples(result_);
  return n == nullptr || *n == '\0' ? 0 : std::atoi(n);
}

void Result::check(int row, int column) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    throw store::Error(SQLITE_RANGE, "row " + std::to_string(row) + " column " + std::to_string(column) +
                                         " is outside the result (" + std::to_string(rows()) + " rows, " +
                                         std::to_string(columns()) + " columns)");
  }
}

std::string Result::column_name(int column) const {
  if (column < 0 || column >= columns()) throw store::Error(SQLITE_RANGE, "column " + std::to_string(column) + " out of range");
  return PQfname(result_, column);
}

bool Result::is_null(int row, int column) const {
  check(row, column);
  return PQgetisnull(result_, row, column) != 0;
}

std::string Result::text(int row, int column) const {
  check(row, column);
  return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::int64_t> Result::int64_or_null(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  const std::string value = text(row, column);
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size()) {
    throw store::Error(SQLITE_MISMATCH, "column " + std::to_string(column) + " is not an integer: \"" + value + "\"");
  }
  return number;
}

std::int64_t Result::int64(int row, int column) const { return int64_or_null(row, column).value_or(0); }

// ---- Connection ----

Connection::Connection(std::string url, ConnectionOptions options) : url_(std::move(url)), options_(options) {
  connect();
}

Connection::~Connection() { PQfinish(conn_); }

void Connection::connect() {
  PQfinish(conn_);
  prepared_.clear();
  conn_ = PQconnectdb(url_.c_str());
  if (conn_ == nullptr) throw Error("08001", "out of memory opening a connection");
  if (PQstatus(conn_) != CONNECTION_OK) throw Error("08001", "cannot connect: " + trimmed(PQerrorMessage(conn_)));
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  exec("SET statement_timeout = " + std::to_string(options_.statement_timeout_ms));
}

void Connection::reconnect() { connect(); }

Result Connection::query(std::string_view sql, std::span<const Param> params) { return query(sql, params, {}); }

Result Connection::query(std::string_view sql, std::span<const Param> params, std::span<const unsigned> types) {
  std::string key(sql);
  for (const unsigned type : types) key += "\x1f" + std::to_string(type);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "store_" + std::to_string(prepared_.size() + 1);
    prepare(name, std::string(sql), params, types);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  Result result = checked(conn_, PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                                                values.data(), nullptr, nullptr, 0));
  last_affected_ = result.affected();
  return result;
}

// A NULL declared text suits "$1 IS NULL OR column = $1" but not an integer column; when the
// server refuses the statement so, it is prepared again with those NULLs' types left to the
// server (inside a transaction under a savepoint, so the refusal does not abort it).
void Connection::prepare(const std::string& name, const std::string& sql, std::span<const Param> params,
                         std::span<const unsigned> types) {
  constexpr unsigned kText = 25;
  std::vector<unsigned> inferred(types.begin(), types.end());
  bool any = false;
  for (std::size_t i = 0; i < inferred.size() && i < params.size(); ++i) {
    if (params[i] || inferred[i] != kText) continue;
    inferred[i] = 0;
    any = true;
  }
  auto run = [&](std::span<const unsigned> t) {
    return checked(conn_, PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(t.size()),
                                    t.empty() ? nullptr : t.data()));
  };
  if (!any) {
    run(types);
    return;
  }
  const bool savepoint = in_transaction();
  if (savepoint) exec("SAVEPOINT store_prepare");
  try {
    run(types);
  } catch (const Error& e) {
    if (e.is_connection_lost()) throw;
    if (savepoint) exec("ROLLBACK TO SAVEPOINT store_prepare");
    run(inferred);
  }
  if (savepoint) exec("RELEASE SAVEPOINT store_prepare");
}

void Connection::exec(std::string_view script) { checked(conn_, PQexec(conn_, std::string(script).c_str())); }

void Connection::listen(std::string_view channel) {
  const bool identifier = !channel.empty() && std::all_of(channel.begin(), channel.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!identifier) throw Error("42602", "channel \"" + std::string(channel) + "\" is not a lower-case identifier");
  exec("LISTEN " + std::string(channel));
}

std::optional<Notification> Connection::wait_notification(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (PQconsumeInput(conn_) == 0) throw Error("", "session lost: " + trimmed(PQerrorMessage(conn_)));
    if (PGnotify* n = PQnotifies(conn_)) {
      Notification notification{n->relname, n->extra};
      PQfreemem(n);
      return notification;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd socket{PQsocket(conn_), POLLIN, 0};
    if (poll(&socket, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      throw Error("", "poll on the session failed");
    }
  }
}

bool Connection::healthy() noexcept {
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  PGresult* r = PQexec(conn_, "SELECT 1");
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

bool Connection::in_transaction() const noexcept {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

// ---- Pool ----

Pool::Pool(std::string url, PoolOptions options) : url_(std::move(url)), options_(options) {
  if (options_.size < 1) throw store::Error(SQLITE_MISUSE, "PostgreSQL pool size must be at least 1");
}

Pool::~Pool() = default;

int Pool::open_connections() {
  const std::lock_guard lock(mutex_);
  return open_;
}

Pool::Lease::Lease(Pool& pool) : pool_(pool) {
  std::unique_lock lock(pool.mutex_);
  const bool available = pool.returned_.wait_for(lock, pool.options_.acquire_timeout, [&] {
    return !pool.idle_.empty() || pool.open_ < pool.options_.size;
  });
  if (!available) {
    throw Error("53300", "all " + std::to_string(pool.options_.size) + " pooled connections stayed busy for " +
                             std::to_string(pool.options_.acquire_timeout.count()) + " ms");
  }
  if (pool.idle_.empty()) ++pool.open_;
  if (!pool.idle_.empty()) {
    connection_ = std::move(pool.idle_.back());
    pool.idle_.pop_back();
  }
  lock.unlock();
  try {
    if (!connection_) {
      connection_ = std::make_unique<Connection>(pool.url_, ConnectionOptions{pool.options_.statement_timeout_ms});
    } else if (PQstatus(connection_->handle()) != CONNECTION_OK) {
      connection_->reconnect();
    }
  } catch (...) {
    connection_.reset();
    const std::lock_guard relock(pool.mutex_);
    --pool.open_;
    pool.returned_.notify_one();
    throw;
  }
}

Pool::Lease::~Lease() {
  const bool reusable = PQstatus(connection_->handle()) == CONNECTION_OK && !connection_->in_transaction();
  const std::lock_guard lock(pool_.mutex_);
  if (reusable) {
    pool_.idle_.push_back(std::move(connection_));
  } else {
    --pool_.open_;  // a broken connection is closed; the next borrower opens a fresh one
  }
  pool_.returned_.notify_one();
}

void Pool::drop_idle() noexcept {
  std::vector<std::unique_ptr<Connection>> gone;
  const std::lock_guard lock(mutex_);
  gone.swap(idle_);
  open_ -= static_cast<int>(gone.size());
  returned_.notify_all();
}

Pool::Outcome Pool::run_write(const std::function<void(Connection&)>& block, Isolation isolation,
                              bool last_attempt) {
  Lease lease(*this);
  Connection& c = *lease;
  try {
    c.exec(isolation == Isolation::serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                                : "BEGIN ISOLATION LEVEL READ COMMITTED");
    block(c);
  } catch (const Error& e) {
    rollback_quietly(c);
    if (e.is_connection_lost()) drop_idle();
    // Nothing was committed: repeating the block is safe.
    if (!last_attempt && (e.is_serialization_failure() || e.is_connection_lost())) return Outcome::retry;
    throw;
  } catch (...) {
    rollback_quietly(c);
    throw;
  }
  try {
    commit(c);
  } catch (const Error& e) {
    rollback_quietly(c);
    // A serialization failure at COMMIT rolled back; a lost connection leaves the outcome unknown.
    if (!last_attempt && e.is_serialization_failure()) return Outcome::retry;
    throw;
  }
  return Outcome::committed;
}

void Pool::run_read(const std::function<void(Connection&)>& block) {
  for (int attempt = 0;; ++attempt) {
    Lease lease(*this);
    try {
      lease->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      block(*lease);
      commit(*lease);
      return;
    } catch (const Error& e) {
      rollback_quietly(*lease);
      if (e.is_connection_lost()) drop_idle();
      if (attempt == 0 && e.is_connection_lost()) continue;  // a read is always safe to repeat
      throw;
    } catch (...) {
      rollback_quietly(*lease);
      throw;
    }
  }
}

void Pool::migrate(std::span<const Migration> migrations) {
  check_migration_list(migrations);
  Lease lease(*this);
  Connection& c = *lease;
  c.query("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  struct Unlock {
    Connection& c;
    ~Unlock() {
      if (PQstatus(c.handle()) == CONNECTION_OK) PQclear(PQexec(c.handle(), "SELECT pg_advisory_unlock_all()"));
    }
  } unlock{c};
  c.exec(kCreateMigrationsTable);
  const std::vector<int> applied = recorded_versions(c);
  check_against_applied(migrations, applied);
  const int newest_applied = applied.empty() ? 0 : applied.back();
  for (const Migration& m : migrations) {
    if (m.version > newest_applied) apply_migration(c, m);
  }
}

void Pool::apply_migration(Connection& c, const Migration& m) {
  try {
    c.exec("BEGIN");
    c.exec(m.sql);
    if (!c.in_transaction()) {
      throw Error("25000", "the script ended the transaction itself (remove BEGIN/COMMIT)");
    }
    c.query("INSERT INTO schema_migrations(version, name, applied_at) "
            "VALUES($1, $2, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
            m.version, m.name);
    commit(c);
  } catch (const Error& e) {
    rollback_quietly(c);
    throw Error(e.sqlstate(),
                "migration " + std::to_string(m.version) + " (" + m.name + ") failed and was rolled back: " + e.what());
  }
}

std::vector<int> Pool::applied_versions() {
  return read([](Connection& c) { return recorded_versions(c); });
}

bool Pool::ping() noexcept {
  try {
    Lease lease(*this);
    return lease->healthy();
  } catch (...) {
    return false;
  }
}

// ---- Leadership ----

Leadership::Leadership(std::string url, std::int64_t key) : url_(std::move(url)), key_(key) {}

bool Leadership::try_lead() noexcept {
  try {
    if (leading_ && connection_->healthy()) return true;
    leading_ = false;  // the session that held the lock is gone, and the lock with it
    if (!connection_) {
      connection_ = std::make_unique<Connection>(url_);
    } else if (!connection_->healthy()) {
      connection_->reconnect();
    }
    leading_ = connection_->query("SELECT pg_try_advisory_lock($1)", key_).text(0, 0) == "t";
  } catch (const std::exception&) {
    leading_ = false;
  }
  return leading_;
}

}  // namespace store::pg
