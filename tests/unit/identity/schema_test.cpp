// The tables libidentity owns, applied after a service's migrations: a database created before
// the library owned them (by the services' former migration files, kept under
// tests/unit/fixtures/migrations-before-identity-schema/, the files as they were before the
// library owned the tables, over the unchanged rest of the service's folder) upgrades in place and keeps its rows,
// and ends with the same tables and columns as a database created today.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../store/temp_dir.hpp"
#include "common/library_schema.hpp"
#include "identity/schema.hpp"
#include "store/database.hpp"

namespace fs = std::filesystem;
using store::Connection;

namespace {

const fs::path kSource = IDENTITY_SOURCE_DIR;

// The "<digits>_<name>.sql" files of a folder; the texts must outlive the migrations.
struct MigrationFiles {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<store::Migration> list;
  // `dir`'s files, each replaced by the file of the same name in `earlier` when there is one.
  explicit MigrationFiles(const fs::path& dir, const fs::path& earlier = {}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      fs::path file = entry.path();
      if (!earlier.empty() && fs::exists(earlier / file.filename())) file = earlier / file.filename();
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      files.emplace_back(file.filename().string(), text.str());
    }
    std::vector<std::pair<std::string_view, std::string_view>> views(files.begin(), files.end());
    list = store::migrations_from_files(std::span<const std::pair<std::string_view, std::string_view>>(views));
  }
};

// table -> its column names, in order (sqlite's own tables and the bookkeeping left out).
std::map<std::string, std::vector<std::string>> shape(store::Database& db) {
  return db.read([](Connection& c) {
    std::map<std::string, std::vector<std::string>> tables;
    auto q = c.prepare(
        "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' "
        "AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid");
    while (q->step()) tables[q->text(0)].push_back(q->text(1));
    return tables;
  });
}

std::int64_t count(store::Database& db, const std::string& table) {
  return db.read([&](Connection& c) { return c.query_int("SELECT count(*) FROM " + table).value_or(-1); });
}

void upgrade(store::Database& db, const std::string& service) {
  MigrationFiles now(kSource / "services" / service / "migrations");
  db.migrate(now.list);
  common::migrate_libraries(db, identity::migrations());
}

}  // namespace

TEST_CASE("a fresh database gets every library table once, and a second run changes nothing", "[identity][schema]") {
  store_test::TempDir dir;
  store::Database db(dir / "fresh.db");
  upgrade(db, "auth-server");
  for (const char* table : {"sessions", "retired_refresh_tokens", "totp", "backup_codes", "mail_tokens", "mail_queue",
                            "reset_requests"})
    CHECK(count(db, table) == 0);
  CHECK(count(db, "library_migrations WHERE ran = 1") == static_cast<std::int64_t>(identity::migrations().size()));
  const auto before = shape(db);
  upgrade(db, "auth-server");
  CHECK(shape(db) == before);
  CHECK(count(db, "library_migrations") == static_cast<std::int64_t>(identity::migrations().size()));
}

TEST_CASE("an auth-server database made by its former migrations upgrades and keeps its rows", "[identity][schema]") {
  store_test::TempDir dir;
  store::Database old_db(dir / "auth.db");
  MigrationFiles before(kSource / "services/auth-server/migrations",
                        kSource / "tests/unit/fixtures/migrations-before-identity-schema/auth-server");
  old_db.migrate(before.list);
  old_db.write([](Connection& c) {
    c.exec(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ('usr_1', 'a@x.test', 'A', 'h', 1, 1);"
        "INSERT INTO sessions VALUES ('ses_1', 'usr_1', 'r1', '127.0.0.1', 'ua', 1, 1, 99, NULL, NULL);"
        "INSERT INTO retired_refresh_tokens VALUES ('r0', 'ses_1', 1);"
        "INSERT INTO mail_tokens VALUES ('m1', 'usr_1', 'verify_email', 1, 99, NULL);"
        "INSERT INTO totp (user_id, secret_sealed, created_at) VALUES ('usr_1', x'00', 1);"
        "INSERT INTO backup_codes VALUES ('usr_1', 'c1', NULL);"
        "INSERT INTO mail_queue (recipient, subject, body, kind, created_at, next_attempt_at, user_id) "
        "VALUES ('a@x.test', 's', 'b', 'verify', 1, 1, 'usr_1');");
  });
  upgrade(old_db, "auth-server");
  for (const char* table : {"sessions", "retired_refresh_tokens", "mail_tokens", "totp", "backup_codes", "mail_queue"})
    CHECK(count(old_db, table) == 1);
  CHECK(count(old_db, "mail_queue WHERE user_id = 'usr_1'") == 1);
  // The column came from the service's own 0007, so the library step is recorded, not run.
  CHECK(count(old_db, "library_migrations WHERE name = 'identity/mail_queue_owner' AND ran = 0") == 1);
  CHECK(count(old_db, "reset_requests") == 0);  // new for auth-server: forgot-password requests survive a crash

  store::Database fresh(dir / "fresh.db");
  upgrade(fresh, "auth-server");
  CHECK(shape(old_db) == shape(fresh));
}

TEST_CASE("a shardlyn-api database made by its former migrations upgrades and keeps its rows", "[identity][schema]") {
  store_test::TempDir dir;
  store::Database old_db(dir / "shardlyn.db");
  MigrationFiles before(kSource / "services/shardlyn-api/migrations",
                        kSource / "tests/unit/fixtures/migrations-before-identity-schema/shardlyn-api");
  old_db.migrate(before.list);
  old_db.write([](Connection& c) {
    c.exec(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ('u1', 'a@x.test', 'A', 'h', 1, 1);"
        "INSERT INTO sessions VALUES ('s1', 'u1', 'r1', '127.0.0.1', 'ua', 1, 1, 99, NULL, NULL);"
        "INSERT INTO mail_tokens VALUES ('m1', 'u1', 'reset_password', 1, 99, NULL);"
        "INSERT INTO totp (user_id, secret_sealed, created_at) VALUES ('u1', x'00', 1);"
        "INSERT INTO mail_queue (recipient, subject, body, kind, created_at, next_attempt_at) "
        "VALUES ('a@x.test', 's', 'b', 'reset', 1, 1);"
        "INSERT INTO reset_requests (email, ip, requested_at) VALUES ('a@x.test', '127.0.0.1', 1);");
  });
  upgrade(old_db, "shardlyn-api");
  for (const char* table : {"sessions", "mail_tokens", "totp", "mail_queue", "reset_requests"})
    CHECK(count(old_db, table) == 1);
  // shardlyn-api's queue had no owner column: the library step adds it, the row stays.
  CHECK(count(old_db, "library_migrations WHERE name = 'identity/mail_queue_owner' AND ran = 1") == 1);
  CHECK(count(old_db, "mail_queue WHERE user_id IS NULL") == 1);

  store::Database fresh(dir / "fresh.db");
  upgrade(fresh, "shardlyn-api");
  CHECK(shape(old_db) == shape(fresh));
}
