#include "common/migrate_to.hpp"

#include <cstdlib>
#include <iostream>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/embedded.hpp"
#include "store/copy.hpp"

namespace common {

namespace {

std::string usage(const MigrateToStore& store) {
  return "usage: " + store.program + " migrate-to postgres://user:password@host:5432/db [--db PATH]\n"
         "Copies the SQLite store (--db, else " + store.sqlite_file.string() + ") into an empty PostgreSQL\n"
         "database, in one transaction; then start the service with DATABASE_URL.\n"
         "Stop the service first: writes made during the copy would not be in it.\n";
}

int usage_error(const MigrateToStore& store, const std::string& message) {
  std::cerr << store.program << " migrate-to: " << message << "\n" << usage(store);
  return 2;
}

}  // namespace

std::filesystem::path data_dir_file(const std::string& service, const std::string& file) {
  const char* data_dir = std::getenv("DATA_DIR");
  return std::filesystem::path(data_dir && *data_dir ? data_dir : "./data/" + service) / file;
}

int migrate_to_command(int argc, char** argv, const MigrateToStore& store) {
  std::optional<std::string> url, db_path;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage(store);
      return 0;
    }
    if (arg == "--db" && i + 1 < argc)
      db_path = argv[++i];
    else if (!arg.starts_with("--") && !url)
      url = arg;
    else
      return usage_error(store, "unexpected argument '" + arg + "'");
  }
  if (!url) return usage_error(store, "the PostgreSQL URL is required");
  if (!::store::pg::is_postgres_url(*url)) return usage_error(store, "'" + *url + "' is not a postgres:// URL");
  const std::filesystem::path file = db_path ? std::filesystem::path(*db_path) : store.sqlite_file;
  if (!std::filesystem::exists(file)) {
    std::cerr << store.program << " migrate-to: no SQLite store at " << file.string() << "\n";
    return 1;
  }
  try {
    ::store::Database from(file, ::store::DatabaseOptions{.read_connections = 1});
    from.migrate(::store::migrations_from_files(store.sqlite_migrations));
    ::store::Database to(::store::PostgresTarget{*url, {}});
    to.migrate(::store::migrations_from_files(store.postgres_migrations));
    const auto copied = ::store::copy_to_postgres(from, to, {.seeded = store.seeded});
    boost::json::object tables;
    for (const auto& [table, rows] : copied) tables[table] = rows;
    std::cout << boost::json::serialize(boost::json::object{{"from", file.string()}, {"copied", tables}}) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << store.program << " migrate-to: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace common
