#include "store/migration.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "store/error.hpp"

namespace store {
namespace {

[[noreturn]] void malformed(std::string_view file, std::string_view why) {
  throw Error(SQLITE_MISUSE, "migration file \"" + std::string(file) + "\": " + std::string(why) +
                                 " (expected <digits>_<name>.sql, e.g. 0001_init.sql)");
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Parses "0001_init.sql" (a directory prefix is ignored) into version 1 and name "init".
Migration parse_file(std::string_view file, std::string_view sql) {
  std::string_view base = file.substr(file.find_last_of('/') + 1);  // npos + 1 == 0
  constexpr std::string_view kSuffix = ".sql";
  if (!base.ends_with(kSuffix)) malformed(file, "name must end in .sql");
  base.remove_suffix(kSuffix.size());
  const std::size_t underscore = base.find('_');
  if (underscore == 0 || underscore == std::string_view::npos) {
    malformed(file, "name must start with a version number and '_'");
  }
  const std::string_view digits = base.substr(0, underscore);
  const std::string_view name = base.substr(underscore + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    malformed(file, "version must be decimal digits");
  }
  int version = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (ec != std::errc() || end != digits.data() + digits.size()) malformed(file, "version too large");
  if (version <= 0) malformed(file, "version must be at least 1");
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
    malformed(file, "name after the version must be letters, digits, '_' or '-'");
  }
  return Migration{version, std::string(name), sql};
}

}  // namespace

std::vector<Migration> migrations_from_files(
    std::span<const std::pair<std::string_view, std::string_view>> name_and_sql) {
  std::vector<Migration> migrations;
  migrations.reserve(name_and_sql.size());
  for (const auto& [file, sql] : name_and_sql) migrations.push_back(parse_file(file, sql));
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  const auto duplicate =
      std::adjacent_find(migrations.begin(), migrations.end(),
                         [](const Migration& a, const Migration& b) { return a.version == b.version; });
  if (duplicate != migrations.end()) {
    throw Error(SQLITE_MISUSE, "migration version " + std::to_string(duplicate->version) + " appears twice (\"" +
                                   duplicate->name + "\" and \"" + std::next(duplicate)->name + "\")");
  }
  return migrations;
}

void check_migration_list(std::span<const Migration> migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= 0) {
      throw Error(SQLITE_MISUSE, "migration \"" + m.name + "\": version must be at least 1");
    }
    if (m.version <= previous) {
      throw Error(SQLITE_MISUSE, "migration " + std::to_string(m.version) + " (" + m.name + ") follows " +
                                     std::to_string(previous) + "; versions must be unique and strictly increasing");
    }
    previous = m.version;
  }
}

void check_against_applied(std::span<const Migration> known, const std::vector<int>& applied) {
  const int newest_applied = applied.empty() ? 0 : applied.back();
  const std::set<int> applied_set(applied.begin(), applied.end());
  std::set<int> known_set;
  for (const Migration& m : known) known_set.insert(m.version);
  for (int version : applied) {
    if (known_set.count(version) == 0) {
      throw Error(SQLITE_ERROR, "database has schema migration " + std::to_string(version) +
                                    " applied, which this binary does not know (newest known: " +
                                    std::to_string(known.empty() ? 0 : known.back().version) +
                                    "); refusing to run against a newer or foreign schema");
    }
  }
  for (const Migration& m : known) {
    if (m.version < newest_applied && applied_set.count(m.version) == 0) {
      throw Error(SQLITE_ERROR, "migration " + std::to_string(m.version) + " (" + m.name +
                                    ") was never applied but newer migration " + std::to_string(newest_applied) +
                                    " was; a migration cannot be inserted before applied ones");
    }
  }
}

}  // namespace store
