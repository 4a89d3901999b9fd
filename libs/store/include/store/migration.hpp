#pragma once
// store::Migration: one numbered schema change, and parsing of "0001_init.sql" file names.
#include <concepts>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace store {

struct Migration {
  int version;           // > 0, strictly increasing within a list
  std::string name;      // human label, recorded in schema_migrations
  std::string_view sql;  // the script; must outlive migrate() and must not BEGIN/COMMIT itself
};

// Parses (file name, sql) pairs named "<digits>_<name>.sql" (e.g. "0001_init.sql" -> version 1,
// name "init") and returns them sorted by version. Throws Error on a malformed name, a version
// of 0 or beyond int, or a duplicate version.
std::vector<Migration> migrations_from_files(
    std::span<const std::pair<std::string_view, std::string_view>> name_and_sql);

// Throws Error unless versions are >= 1 and strictly increasing.
void check_migration_list(std::span<const Migration> migrations);
// Throws Error unless every applied version (ascending) is in `known` and no known version
// hides below the newest applied one.
void check_against_applied(std::span<const Migration> known, const std::vector<int>& applied);

template <class Files>
concept NamedFileRange = requires(const Files& files) {
  { std::begin(files)->name } -> std::convertible_to<std::string_view>;
  { std::begin(files)->data } -> std::convertible_to<std::string_view>;
};

// Same for any range of records with `.name` and `.data` (e.g. common::EmbeddedFile).
template <NamedFileRange Files>
std::vector<Migration> migrations_from_files(const Files& files) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (const auto& file : files) pairs.emplace_back(file.name, file.data);
  return migrations_from_files(std::span<const std::pair<std::string_view, std::string_view>>(pairs));
}

}  // namespace store
