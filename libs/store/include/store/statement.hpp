#pragma once
// store::Statement: one prepared SQLite statement with typed binds and column reads.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace store {

namespace pg {
class Connection;
}
namespace detail {
class PgCursor;
}

// Integer types without a bind overload of their own (unsigned, long long, short...).
template <class T>
concept OtherInteger =
    std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, int> && !std::same_as<T, std::int64_t>;

// Bytes bound as a BLOB (a plain string_view binds as TEXT).
struct Blob {
  std::string_view bytes;
};

class Statement {
 public:
  // Compiles exactly one SQL statement on `db`; throws Error on syntax errors or trailing SQL.
  Statement(sqlite3* db, std::string_view sql);
  // The same statement on the PostgreSQL backend: `?` and `?N` become `$N`, parameters go in
  // text format typed by their bind (integers int8, doubles float8, text and NULL text, blobs
  // bytea), so a NULL in an integer context needs CAST(? AS INTEGER) in the SQL. The statement
  // runs at the first step(); named parameters (":name", "@name") work too, handle() is SQLite only.
  Statement(pg::Connection& session, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;

  // Binds parameter `index` (1-based); every overload throws Error on a bad index.
  void bind(int index, std::nullptr_t);
  void bind(int index, std::nullopt_t);
  void bind(int index, int value);
  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind(int index, bool value);             // stored as INTEGER 0/1
  void bind(int index, std::string_view text);  // copied; may contain NULs
  void bind(int index, const char* text);       // NUL-terminated; nullptr binds NULL
  void bind(int index, Blob blob);              // copied
  // Other integer types (unsigned, long long...); throws Error if outside int64 range.
  template <OtherInteger T>
  void bind(int index, T value);
  // Binds the value, or NULL when empty.
  template <class T>
  void bind(int index, const std::optional<T>& value);
  // Binds a named parameter (":name", "@name" or "$name"); throws Error if the name is unknown.
  template <class T>
  void bind(std::string_view name, T&& value) {
    bind(parameter_index(name), std::forward<T>(value));
  }

  // Binds args to parameters 1..N; throws Error unless N equals the statement's parameter count.
  template <class... A>
  void bind_all(A&&... args);

  // Runs one step: true when a row is available, false when done; throws Error otherwise.
  bool step();
  // Rewinds the statement and clears all bindings to NULL; never throws.
  void reset() noexcept;

  // Column reads of the current row (0-based); they throw Error on an out-of-range column.
  std::string text(int column) const;  // NULL reads as ""
  std::optional<std::string> text_or_null(int column) const;
  std::int64_t int64(int column) const;  // NULL reads as 0
  std::optional<std::int64_t> int64_or_null(int column) const;
  double real(int column) const;       // NULL reads as 0.0
  std::string blob(int column) const;  // raw bytes; NULL reads as ""
  bool is_null(int column) const;
  int column_count() const noexcept;
  std::string column_name(int column) const;

  // Number of parameters (the largest index) the SQL declares.
  int parameter_count() const noexcept;
  // Index of a named parameter; throws Error if the SQL has no such parameter.
  int parameter_index(std::string_view name) const;
  // The SQL text this statement was prepared from.
  const std::string& sql() const noexcept { return sql_; }
  // The underlying handle (valid until this Statement is destroyed).
  sqlite3_stmt* handle() const noexcept { return stmt_; }

 private:
  void bind_integer(int index, std::int64_t value);
  void check_bind(int rc, int index) const;
  void check_column(int column) const;
  [[noreturn]] void throw_range(std::string_view what) const;

  sqlite3_stmt* stmt_ = nullptr;
  std::unique_ptr<detail::PgCursor> pg_;
  std::string sql_;
  bool has_row_ = false;  // the last step() returned a row
};

template <OtherInteger T>
void Statement::bind(int index, T value) {
  if (!std::in_range<std::int64_t>(value)) throw_range("integer does not fit in int64");
  bind_integer(index, static_cast<std::int64_t>(value));
}

template <class T>
void Statement::bind(int index, const std::optional<T>& value) {
  if (value) {
    bind(index, *value);
  } else {
    bind(index, std::nullopt);
  }
}

template <class... A>
void Statement::bind_all(A&&... args) {
  if (static_cast<int>(sizeof...(A)) != parameter_count()) {
    throw_range("bind_all: argument count differs from the statement's parameter count");
  }
  int index = 0;
  (bind(++index, std::forward<A>(args)), ...);
}

}  // namespace store
