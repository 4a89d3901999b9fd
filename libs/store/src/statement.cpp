#include "store/statement.hpp"

#include <sqlite3.h>

#include <climits>

#include "pg_cursor.hpp"
#include "sqlite_error.hpp"

namespace store {
namespace {

// A short, single-line excerpt of SQL for error messages.
std::string excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 120;
  std::string out(sql.substr(0, kMax));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (sql.size() > kMax) out += "...";
  return out;
}

// True when `tail` holds another statement (not just whitespace, semicolons or comments).
bool has_more_sql(sqlite3* db, const char* tail, const char* end) {
  while (tail != nullptr && tail < end) {
    sqlite3_stmt* next = nullptr;
    const char* after = nullptr;
    const int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &next, &after);
    sqlite3_finalize(next);
    if (rc != SQLITE_OK || next != nullptr) return true;
    if (after == tail) return false;  // nothing consumed: only blanks left
    tail = after;                     // skip an empty statement (";") or a comment
  }
  return false;
}

// A bytea parameter in hex input format.
std::string hex_bytea(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  for (const char c : bytes) {
    out += kDigits[(static_cast<unsigned char>(c) >> 4) & 0xf];
    out += kDigits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : sql_(sql) {
  if (sql.size() >= static_cast<std::size_t>(INT_MAX)) {
    throw Error(SQLITE_TOOBIG, "prepare: SQL text too long");
  }
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    detail::throw_error(db, rc, "prepare \"" + excerpt(sql) + "\"");
  }
  if (stmt_ == nullptr) {
    throw Error(SQLITE_MISUSE, "prepare \"" + excerpt(sql) + "\": no SQL statement");
  }
  if (has_more_sql(db, tail, sql.data() + sql.size())) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    throw Error(SQLITE_MISUSE, "prepare \"" + excerpt(sql) + "\": more than one statement (use exec for scripts)");
  }
}

Statement::Statement(pg::Connection& session, std::string_view sql)
    : pg_(std::make_unique<detail::PgCursor>(session, sql)), sql_(sql) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      pg_(std::move(other.pg_)),
      sql_(std::move(other.sql_)),
      has_row_(std::exchange(other.has_row_, false)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    pg_ = std::move(other.pg_);
    sql_ = std::move(other.sql_);
    has_row_ = std::exchange(other.has_row_, false);
  }
  return *this;
}

void Statement::check_bind(int rc, int index) const {
  if (rc != SQLITE_OK) {
    detail::throw_error(sqlite3_db_handle(stmt_), rc,
                        "bind parameter " + std::to_string(index) + " of \"" + excerpt(sql_) + "\"");
  }
}

void Statement::bind(int index, std::nullptr_t) {
  if (pg_) return pg_->bind(index, std::nullopt, detail::PgCursor::Type::text);
  check_bind(sqlite3_bind_null(stmt_, index), index);
}

void Statement::bind(int index, std::nullopt_t) { bind(index, nullptr); }

void Statement::bind(int index, int value) { bind_integer(index, value); }

void Statement::bind(int index, std::int64_t value) { bind_integer(index, value); }

void Statement::bind_integer(int index, std::int64_t value) {
  if (pg_) return pg_->bind(index, std::to_string(value), detail::PgCursor::Type::int8);
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::bind(int index, double value) {
  if (pg_) return pg_->bind(index, pg::to_param(value), detail::PgCursor::Type::float8);
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
}

void Statement::bind(int index, bool value) { bind_integer(index, value ? 1 : 0); }

void Statement::bind(int index, std::string_view text) {
  // A null data pointer would bind NULL; an empty view must stay an empty string.
  if (pg_) return pg_->bind(index, std::string(text), detail::PgCursor::Type::text);
  const char* data = text.data() != nullptr ? text.data() : "";
  check_bind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

void Statement::bind(int index, const char* text) {
  if (text == nullptr) {
    bind(index, nullptr);
  } else {
    bind(index, std::string_view(text));
  }
}

void Statement::bind(int index, Blob blob) {
  if (pg_) return pg_->bind(index, hex_bytea(blob.bytes), detail::PgCursor::Type::bytea);
  const char* data = blob.bytes.data() != nullptr ? blob.bytes.data() : "";
  check_bind(sqlite3_bind_blob64(stmt_, index, data, blob.bytes.size(), SQLITE_TRANSIENT), index);
}

bool Statement::step() {
  if (pg_) return has_row_ = pg_->step();
  const int rc = sqlite3_step(stmt_);
  has_row_ = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  detail::throw_error(sqlite3_db_handle(stmt_), rc, "step \"" + excerpt(sql_) + "\"");
}

void Statement::reset() noexcept {
  // The result of sqlite3_reset repeats the last step's error, which step() already threw.
  has_row_ = false;
  if (pg_) return pg_->reset();
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  has_row_ = false;
}

void Statement::throw_range(std::string_view what) const {
  throw Error(SQLITE_RANGE, std::string(what) + " (\"" + excerpt(sql_) + "\")");
}

void Statement::check_column(int column) const {
  if (!has_row_) throw_range("column read without a current row");
  if (column < 0 || column >= column_count()) {
    throw_range("column " + std::to_string(column) + " out of range");
  }
}

std::string Statement::text(int column) const {
  check_column(column);
  if (pg_) return pg_->text(column);
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> Statement::text_or_null(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::int64_t Statement::int64(int column) const {
  check_column(column);
  if (pg_) return pg_->int64(column);
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::int64_or_null(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

double Statement::real(int column) const {
  check_column(column);
  if (pg_) return pg_->real(column);
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::blob(int column) const {
  check_column(column);
  if (pg_) return pg_->blob(column);
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

bool Statement::is_null(int column) const {
  check_column(column);
  if (pg_) return pg_->is_null(column);
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int Statement::column_count() const noexcept { return pg_ ? pg_->column_count() : sqlite3_column_count(stmt_); }

std::string Statement::column_name(int column) const {
  if (column < 0 || column >= column_count()) {
    throw_range("column " + std::to_string(column) + " out of range");
  }
  if (pg_) return pg_->column_name(column);
  const char* name = sqlite3_column_name(stmt_, column);
  if (name == nullptr) throw Error(SQLITE_NOMEM, "column_name: out of memory");
  return name;
}

int Statement::parameter_count() const noexcept {
  return pg_ ? pg_->parameter_count() : sqlite3_bind_parameter_count(stmt_);
}

int Statement::parameter_index(std::string_view name) const {
  const std::string key(name);
  const int index = pg_ ? pg_->parameter_index(key) : sqlite3_bind_parameter_index(stmt_, key.c_str());
  if (index == 0) throw_range("no parameter named " + key);
  return index;
}

}  // namespace store
