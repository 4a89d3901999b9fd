#pragma once
// `threat-cloud import --format F FILE [options]`: loads a public feed file into the database.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace common {
struct EmbeddedFile;
}

namespace tc {

// The schema of each backend, applied before the import.
struct ImportMigrations {
  std::span<const common::EmbeddedFile> sqlite;
  std::span<const common::EmbeddedFile> postgres;
};

// Prints "threat-cloud <command>: <message>" and the usage on stderr; returns exit code 2.
int command_usage_error(std::string_view command, const std::string& message, std::string_view usage);

// The SQLite file the service opens: TC_DB_PATH (relative to DATA_DIR), else
// DATA_DIR/threat-cloud.db, DATA_DIR defaulting to ./data/threat-cloud.
std::filesystem::path default_database();

// Runs the import subcommand with the arguments after "import"; prints a JSON report on
// stdout. Exit code 0 when the file was read (malformed lines are reported, not fatal), 2 on
// bad arguments, 1 when the file or database cannot be opened.
int import_command(int argc, char** argv, const ImportMigrations& migrations);

}  // namespace tc
