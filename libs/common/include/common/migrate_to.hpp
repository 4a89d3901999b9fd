#pragma once
// `<binary> migrate-to postgres://... [--db PATH]`: copies a service's SQLite store into an
// empty PostgreSQL database (store::copy_to_postgres), which the service then uses with
// DATABASE_URL (decision 0035).
#include <filesystem>
#include <set>
#include <span>
#include <string>

namespace common {

struct EmbeddedFile;

struct MigrateToStore {
  std::string program;                                 // "threat-cloud", for messages
  std::filesystem::path sqlite_file;                   // where the service keeps it (--db overrides)
  std::span<const EmbeddedFile> sqlite_migrations;     // both schemas are applied first
  std::span<const EmbeddedFile> postgres_migrations;
  std::set<std::string> seeded = {"service_meta"};     // tables the PostgreSQL migrations fill
};

// Runs the subcommand with the arguments after "migrate-to"; prints {"from", "copied": {table:
// rows}} on stdout. Exit code 0 after the copy, 2 on bad arguments, 1 when a store cannot be
// opened or the target is not empty (nothing is copied then).
int migrate_to_command(int argc, char** argv, const MigrateToStore& store);

// DATA_DIR from the environment (default ./data/<service>) / `file`: the file a service opens.
std::filesystem::path data_dir_file(const std::string& service, const std::string& file);

}  // namespace common
