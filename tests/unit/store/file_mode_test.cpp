// Database files are readable by their owner only (0600) whatever the umask: the main file,
// its WAL and shared-memory companions, and online backups.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "store/database.hpp"
#include "temp_dir.hpp"

namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Restores the process umask when the test ends.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

const store::Migration kSchema[] = {{1, "items", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT);"}};

}  // namespace

TEST_CASE("database, WAL, SHM and backup files are created 0600 under umask 000", "[store][files]") {
  Umask open_umask(0);
  store_test::TempDir dir;
  const auto file = dir / "app.db";
  {
    store::Database db(file);
    db.migrate(kSchema);
    db.write([](store::Connection& c) { c.execute("INSERT INTO items(name) VALUES('x')"); });
    CHECK(mode_of(file) == 0600);
    REQUIRE(std::filesystem::exists(file.string() + "-wal"));
    CHECK(mode_of(file.string() + "-wal") == 0600);
    REQUIRE(std::filesystem::exists(file.string() + "-shm"));
    CHECK(mode_of(file.string() + "-shm") == 0600);
    db.backup_to(dir / "backups" / "copy.db");
    CHECK(mode_of(dir / "backups" / "copy.db") == 0600);
  }
}

TEST_CASE("an existing world-readable database is tightened to 0600 when opened", "[store][files]") {
  store_test::TempDir dir;
  const auto file = dir / "old.db";
  {
    store::Database db(file);
    db.migrate(kSchema);
  }
  REQUIRE(::chmod(file.c_str(), 0644) == 0);
  store::Database db(file);
  CHECK(mode_of(file) == 0600);
}
