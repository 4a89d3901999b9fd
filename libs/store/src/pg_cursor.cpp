#include "pg_cursor.hpp"

#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace store::detail {
namespace {

// Index just past a quoted run ('...' or "...", doubled quotes inside) starting at `i`.
std::size_t skip_quoted(std::string_view sql, std::size_t i) {
  const char quote = sql[i];
  for (++i; i < sql.size(); ++i) {
    if (sql[i] != quote) continue;
    if (i + 1 < sql.size() && sql[i + 1] == quote) {
      ++i;
      continue;
    }
    return i + 1;
  }
  return sql.size();
}

// Index just past a comment ("-- ..." to the end of the line, or "/* ... */") starting at `i`.
std::size_t skip_comment(std::string_view sql, std::size_t i) {
  const std::size_t end = sql[i] == '-' ? sql.find('\n', i) : sql.find("*/", i + 2);
  if (end == std::string_view::npos) return sql.size();
  return sql[i] == '-' ? end : end + 2;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the parameter name at `i` (":name" / "@name"), 0 when none starts there.
std::size_t name_length(std::string_view sql, std::size_t i) {
  const auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9'); };
  if ((sql[i] != ':' && sql[i] != '@') || i + 1 >= sql.size() || (i > 0 && sql[i - 1] == ':')) return 0;
  if (!word(sql[i + 1]) || (sql[i + 1] >= '0' && sql[i + 1] <= '9')) return 0;
  std::size_t end = i + 1;
  while (end < sql.size() && word(sql[end])) ++end;
  return end - i;
}

}  // namespace

std::string dollar_placeholders(std::string_view sql, int& count, std::map<std::string, int, std::less<>>& names) {
  std::string out;
  out.reserve(sql.size() + 8);
  count = 0;
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    const bool comment = (c == '-' || c == '/') && i + 1 < sql.size() && sql[i + 1] == (c == '-' ? '-' : '*');
    if (c == '\'' || c == '"' || comment) {
      const std::size_t end = comment ? skip_comment(sql, i) : skip_quoted(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (const std::size_t length = name_length(sql, i)) {
      const auto [it, added] = names.try_emplace(std::string(sql.substr(i, length)), count + 1);
      if (added) ++count;
      out += '$' + std::to_string(it->second);
      i += length;
      continue;
    }
    if (c != '?') {
      out += c;
      ++i;
      continue;
    }
    std::size_t digits = i + 1;
    while (digits < sql.size() && sql[digits] >= '0' && sql[digits] <= '9') ++digits;
    int number = count + 1;
    if (digits > i + 1) std::from_chars(sql.data() + i + 1, sql.data() + digits, number);
    count = std::max(count, number);
    out += '$' + std::to_string(number);
    i = digits;
  }
  return out;
}

int PgCursor::parameter_index(std::string_view name) const {
  const auto it = names_.find(name);
  return it == names_.end() ? 0 : it->second;
}

PgCursor::PgCursor(pg::Connection& session, std::string_view sql) : session_(session) {
  int count = 0;
  sql_ = dollar_placeholders(sql, count, names_);
  values_.resize(static_cast<std::size_t>(count));
  types_.assign(static_cast<std::size_t>(count), static_cast<unsigned>(Type::text));
}

void PgCursor::bind(int index, pg::Param value, Type type) {
  if (index < 1 || index > parameter_count())
    throw Error(SQLITE_RANGE, "bind parameter " + std::to_string(index) + " is out of range");
  values_[static_cast<std::size_t>(index - 1)] = std::move(value);
  types_[static_cast<std::size_t>(index - 1)] = static_cast<unsigned>(type);
}

bool PgCursor::step() {
  if (!result_) {
    result_.emplace(session_.query(sql_, std::span<const pg::Param>(values_), std::span<const unsigned>(types_)));
    row_ = 0;
  } else if (row_ < result_->rows()) {
    ++row_;
  }
  return has_row();
}

void PgCursor::reset() noexcept {
  result_.reset();
  row_ = -1;
  for (auto& value : values_) value.reset();
  types_.assign(types_.size(), static_cast<unsigned>(Type::text));
}

void PgCursor::check_row() const {
  if (!has_row()) throw Error(SQLITE_RANGE, "column read without a current row");
}

bool PgCursor::is_null(int column) const {
  check_row();
  return result_->is_null(row_, column);
}

std::string PgCursor::text(int column) const {
  check_row();
  return result_->text(row_, column);
}

// Integers, booleans (t/f) and numerics (truncated, as SQLite reads a REAL as an integer).
std::int64_t PgCursor::int64(int column) const {
  const std::string value = text(column);
  if (value == "t" || value == "f") return value == "t" ? 1 : 0;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec == std::errc() && end == value.data() + value.size()) return number;
  return static_cast<std::int64_t>(std::trunc(real(column)));
}

double PgCursor::real(int column) const {
  const std::string value = text(column);
  if (value.empty()) return 0.0;
  if (value == "t" || value == "f") return value == "t" ? 1.0 : 0.0;
  return std::strtod(value.c_str(), nullptr);
}

// bytea in hex output ("\x0a1b..."); any other column as its text.
std::string PgCursor::blob(int column) const {
  const std::string value = text(column);
  if (!value.starts_with("\\x")) return value;
  std::string bytes;
  bytes.reserve((value.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < value.size(); i += 2)
    bytes += static_cast<char>(hex_value(value[i]) * 16 + hex_value(value[i + 1]));
  return bytes;
}

int PgCursor::column_count() const noexcept { return result_ ? result_->columns() : 0; }

std::string PgCursor::column_name(int column) const {
  if (!result_) throw Error(SQLITE_RANGE, "column names are known after the first step()");
  return result_->column_name(column);
}

}  // namespace store::detail
