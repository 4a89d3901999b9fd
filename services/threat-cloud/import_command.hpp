#pragma once
// `threat-cloud import --format F FILE [options]`: loads a public feed file into the database.
#include <span>

namespace common {
struct EmbeddedFile;
}

namespace tc {

// The schema of each backend, applied before the import.
struct ImportMigrations {
  std::span<const common::EmbeddedFile> sqlite;
  std::span<const common::EmbeddedFile> postgres;
};

// Runs the import subcommand with the arguments after "import"; prints a JSON report on
// stdout. Exit code 0 when the file was read (malformed lines are reported, not fatal), 2 on
// bad arguments, 1 when the file or database cannot be opened.
int import_command(int argc, char** argv, const ImportMigrations& migrations);

}  // namespace tc
