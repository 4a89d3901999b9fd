#include "store/copy.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <vector>

namespace store {
namespace {

struct Table {
  std::string name;
  std::vector<std::string> parents;  // tables its foreign keys name
};

// The SQLite tables in an order where every table comes after the tables it references.
std::vector<std::string> tables_parents_first(Connection& c) {
  std::vector<Table> tables;
  auto q = c.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "AND name <> 'schema_migrations' ORDER BY name");
  while (q->step()) tables.push_back({q->text(0), {}});
  for (auto& t : tables) {
    auto fk = c.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)");
    fk->bind_all(t.name);
    while (fk->step()) t.parents.push_back(fk->text(0));
  }
  std::vector<std::string> order;
  std::set<std::string> placed;
  while (order.size() < tables.size()) {
    const std::size_t before = order.size();
    for (const auto& t : tables) {
      if (placed.contains(t.name)) continue;
      bool ready = true;
      for (const auto& p : t.parents) ready = ready && (p == t.name || placed.contains(p));
      if (!ready) continue;
      order.push_back(t.name);
      placed.insert(t.name);
    }
    if (order.size() == before) throw Error(SQLITE_ERROR, "copy: the tables' foreign keys form a cycle");
  }
  return order;
}

std::set<std::string> target_columns(Connection& to, const std::string& table) {
  std::set<std::string> out;
  auto q = to.prepare(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?");
  q->bind_all(table);
  while (q->step()) out.insert(q->text(0));
  if (out.empty()) throw Error(SQLITE_ERROR, "copy: the target has no table " + table);
  return out;
}

// Binds column `i` of the SQLite row `from` to parameter i + 1 of `to`, keeping its type.
void bind_value(Statement& to, const Statement& from, int i) {
  switch (sqlite3_column_type(from.handle(), i)) {
    case SQLITE_INTEGER: return to.bind(i + 1, from.int64(i));
    case SQLITE_FLOAT: return to.bind(i + 1, from.real(i));
    case SQLITE_BLOB: return to.bind(i + 1, Blob{from.blob(i)});
    case SQLITE_NULL: return to.bind(i + 1, std::nullopt);
    default: return to.bind(i + 1, std::string_view(from.text(i)));
  }
}

std::int64_t copy_table(Connection& from, Connection& to, const std::string& table) {
  const std::set<std::string> columns = target_columns(to, table);
  // SQLite's rowid where the target keeps it (tables WITHOUT ROWID have none).
  const bool rowid = columns.contains("rowid");
  auto rows = from.prepare(std::string("SELECT ") + (rowid ? "rowid, " : "") + "* FROM \"" + table + "\"" +
                           (rowid ? " ORDER BY rowid" : ""));
  std::int64_t copied = 0;
  std::string insert;
  while (rows->step()) {
    if (insert.empty()) {
      std::string names, marks;
      for (int i = 0; i < rows->column_count(); ++i) {
        if (!columns.contains(rows->column_name(i)))
          throw Error(SQLITE_ERROR, "copy: the target's " + table + " has no column " + rows->column_name(i));
        names += (i ? ", \"" : "\"") + rows->column_name(i) + "\"";
        marks += i ? ", ?" : "?";
      }
      insert = "INSERT INTO \"" + table + "\" (" + names + ") VALUES (" + marks + ")";
    }
    auto q = to.prepare(insert);
    for (int i = 0; i < rows->column_count(); ++i) bind_value(*q, *rows, i);
    q->step();
    ++copied;
  }
  return copied;
}

// Moves every identity column's counter past the largest copied value.
void advance_identities(Connection& to) {
  auto q = to.prepare(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
      "AND is_identity = 'YES'");
  std::vector<std::pair<std::string, std::string>> identities;
  while (q->step()) identities.emplace_back(q->text(0), q->text(1));
  for (const auto& [table, column] : identities) {
    to.query_int("SELECT setval(pg_get_serial_sequence('\"" + table + "\"', '" + column + "'), coalesce(max(\"" +
                     column + "\"), 0) + 1, false) FROM \"" + table + "\"");
  }
}

}  // namespace

std::map<std::string, std::int64_t> copy_to_postgres(Database& from, Database& to, const CopyOptions& options) {
  if (from.postgres() || !to.postgres()) throw Error(SQLITE_MISUSE, "copy: from SQLite to PostgreSQL only");
  // The PostgreSQL list may have steps of its own (tables only replicas need).
  const std::vector<int> target_versions = to.applied_versions();
  for (const int version : from.applied_versions()) {
    if (std::find(target_versions.begin(), target_versions.end(), version) == target_versions.end())
      throw Error(SQLITE_ERROR, "copy: the target lacks schema version " + std::to_string(version) + "; migrate both first");
  }
  return to.write([&](Connection& target) {
    return from.read([&](Connection& source) {
      std::map<std::string, std::int64_t> copied;
      std::vector<std::string> order;
      for (auto& table : tables_parents_first(source)) {
        // An empty table the target's schema lacks (such as the bookkeeping of libraries the
        // service does not link) holds nothing to lose.
        const bool known = target.query_int("SELECT 1 WHERE to_regclass(?) IS NOT NULL", "\"" + table + "\"").has_value();
        if (known || source.query_int("SELECT count(*) FROM \"" + table + "\"").value_or(0) > 0)
          order.push_back(std::move(table));
      }
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        if (options.seeded.contains(*it)) {
          target.execute("DELETE FROM \"" + *it + "\"");
        } else if (target.query_int("SELECT count(*) FROM \"" + *it + "\"").value_or(0) > 0) {
          throw Error(SQLITE_CONSTRAINT, "copy: the target's table " + *it + " is not empty; copy into a new database");
        }
      }
      for (const auto& table : order) copied[table] = copy_table(source, target, table);
      advance_identities(target);
      return copied;
    });
  });
}

}  // namespace store
