#pragma once
// The PostgreSQL side of store::Statement: SQLite placeholders (`?`, `?N`) rewritten to `$N`,
// parameters collected in text format with their types, the statement run on the first step()
// and its rows walked one by one.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/pg.hpp"

namespace store::detail {

// `?`, `?N`, `:name` and `@name` outside literals, quoted identifiers and comments become `$N`
// (a bare `?` or a new name takes the largest number so far plus one, as in SQLite; a name
// used again keeps its number; `::` casts stay); `count` receives the largest number and
// `names` the number of each name (with its prefix, as SQLite's bind by name takes it).
std::string dollar_placeholders(std::string_view sql, int& count, std::map<std::string, int, std::less<>>& names);

class PgCursor {
 public:
  // Parameter types sent with the statement (PostgreSQL OIDs).
  enum class Type : unsigned { int8 = 20, text = 25, float8 = 701, bytea = 17 };

  PgCursor(pg::Connection& session, std::string_view sql);
  void bind(int index, pg::Param value, Type type);
  // Runs the statement on the first call; then moves to the next row. False when done.
  bool step();
  void reset() noexcept;

  bool has_row() const noexcept { return result_ && row_ >= 0 && row_ < result_->rows(); }
  bool is_null(int column) const;
  std::string text(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string blob(int column) const;
  int column_count() const noexcept;
  std::string column_name(int column) const;
  int parameter_count() const noexcept { return static_cast<int>(values_.size()); }
  // The number of a named parameter (":name"), 0 when the SQL has none of that name.
  int parameter_index(std::string_view name) const;

 private:
  void check_row() const;
  pg::Connection& session_;
  std::string sql_;
  std::map<std::string, int, std::less<>> names_;
  std::vector<pg::Param> values_;
  std::vector<unsigned> types_;
  std::optional<pg::Result> result_;
  int row_ = -1;
};

}  // namespace store::detail
