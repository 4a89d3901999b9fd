#pragma once
// `threat-cloud migrate-to postgres://... [--db PATH]`: copies the SQLite store into an empty
// PostgreSQL database, which the service then uses with DATABASE_URL.
#include "import_command.hpp"

namespace tc {

// Runs the subcommand with the arguments after "migrate-to"; prints {"copied": {table: rows}}
// on stdout. Exit code 0 after the copy, 2 on bad arguments, 1 when a store cannot be opened
// or the target is not empty (nothing is copied then).
int migrate_command(int argc, char** argv, const ImportMigrations& migrations);

}  // namespace tc
