#pragma once
// Tables a library owns (libs/identity: sessions, TOTP, mail tokens, the mail queue), created in
// the database of every service that links the library, so no service copies their schema.
#include <span>
#include <string_view>
#include <vector>

#include "common/embedded.hpp"
#include "store/database.hpp"

namespace common {

// One step of a library's schema. Steps are recorded by name in library_migrations, not in
// schema_migrations, whose numbers belong to the service: a library can add a step without
// taking a number a service will want.
struct LibraryMigration {
  std::string_view name;  // "<library>/<step>", never reused
  std::string_view sql;   // idempotent where SQL allows it (IF NOT EXISTS)
  // A query answering non-zero when the step's effect is already there (a database that got
  // the table from the service's own migration before the library owned it, or a column that
  // ALTER TABLE cannot add twice): the step is then recorded without running. Empty = always run.
  std::string_view present = {};
};

// Applies every step not recorded yet, in order, each in its own transaction with its record.
// Throws store::Error (the failing step rolled back, those before it kept).
void migrate_libraries(store::Database& db, std::span<const LibraryMigration> steps);

// The service's numbered migrations (files "<digits>_<name>.sql"), then the library steps.
// Returns the service's migration list (for its newest version).
std::vector<store::Migration> migrate_service(store::Database& db, std::span<const EmbeddedFile> migrations,
                                              std::span<const LibraryMigration> libraries);

}  // namespace common
