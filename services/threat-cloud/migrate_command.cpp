#include "migrate_command.hpp"

#include <iostream>
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/embedded.hpp"
#include "store/copy.hpp"

namespace tc {

namespace {

constexpr const char* kUsage =
    "usage: threat-cloud migrate-to postgres://user:password@host:5432/db [--db PATH]\n"
    "Copies the SQLite store (--db, else TC_DB_PATH relative to DATA_DIR, else DATA_DIR/threat-cloud.db)\n"
    "into an empty PostgreSQL database, in one transaction; then start the service with DATABASE_URL.\n"
    "Stop the service first: writes made during the copy would not be in it.\n";

int usage_error(const std::string& message) { return command_usage_error("migrate-to", message, kUsage); }

}  // namespace

int migrate_command(int argc, char** argv, const ImportMigrations& migrations) {
  std::optional<std::string> url, db_path;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--db" && i + 1 < argc)
      db_path = argv[++i];
    else if (!arg.starts_with("--") && !url)
      url = arg;
    else
      return usage_error("unexpected argument '" + arg + "'");
  }
  if (!url) return usage_error("the PostgreSQL URL is required");
  if (!store::pg::is_postgres_url(*url)) return usage_error("'" + *url + "' is not a postgres:// URL");
  const std::filesystem::path file = db_path ? std::filesystem::path(*db_path) : default_database();
  if (!std::filesystem::exists(file)) {
    std::cerr << "threat-cloud migrate-to: no SQLite store at " << file.string() << "\n";
    return 1;
  }
  try {
    store::Database from(file, store::DatabaseOptions{.read_connections = 1});
    from.migrate(store::migrations_from_files(migrations.sqlite));
    store::Database to(store::PostgresTarget{*url, {}});
    to.migrate(store::migrations_from_files(migrations.postgres));
    const auto copied = store::copy_to_postgres(from, to, {.seeded = {"service_meta"}});
    boost::json::object tables;
    for (const auto& [table, rows] : copied) tables[table] = rows;
    std::cout << boost::json::serialize(boost::json::object{{"from", file.string()}, {"copied", tables}}) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "threat-cloud migrate-to: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tc
