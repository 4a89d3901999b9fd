#include "common/library_schema.hpp"

#include <string>

#include "common/clock.hpp"

namespace common {

namespace {

constexpr std::string_view kCreateLibraryMigrations =
    "CREATE TABLE IF NOT EXISTS library_migrations ("
    "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, ran INTEGER NOT NULL CHECK (ran IN (0, 1)))";

}  // namespace

void migrate_libraries(store::Database& db, std::span<const LibraryMigration> steps) {
  db.write([](store::Connection& c) { c.exec(kCreateLibraryMigrations); });
  for (const LibraryMigration& step : steps) {
    try {
      db.write([&](store::Connection& c) {
        if (c.query_int("SELECT count(*) FROM library_migrations WHERE name = ?", step.name).value_or(0) > 0) return;
        const bool present = !step.present.empty() && c.query_int(step.present).value_or(0) > 0;
        if (!present) c.exec(step.sql);
        c.execute("INSERT INTO library_migrations (name, applied_at, ran) VALUES (?, ?, ?)", step.name,
                  rfc3339_now(), present ? 0 : 1);
      });
    } catch (const store::Error& e) {
      throw store::Error(e.code(), "library migration " + std::string(step.name) + " failed and was rolled back: " +
                                       e.what());
    }
  }
}

std::vector<store::Migration> migrate_service(store::Database& db, std::span<const EmbeddedFile> migrations,
                                              std::span<const LibraryMigration> libraries) {
  auto list = store::migrations_from_files(migrations);
  db.migrate(list);
  migrate_libraries(db, libraries);
  return list;
}

}  // namespace common
