#include "store/backups.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "temp_dir.hpp"

namespace {

void touch(const std::filesystem::path& p, std::string_view text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("backups: listed newest first by name, others ignored, rotated to the newest N", "[store][backups]") {
  store_test::TempDir dir;
  touch(dir.path() / "svc-20260101T000000Z.db", "a");
  touch(dir.path() / "svc-20260301T000000Z.db", "ccc");
  touch(dir.path() / "svc-20260201T000000Z.db", "bb");
  touch(dir.path() / "other-20260401T000000Z.db", "x");
  touch(dir.path() / "svc-20260501T000000Z.db-journal", "x");
  std::filesystem::create_directory(dir.path() / "svc-dir.db");

  auto files = store::backup_files(dir.path(), "svc-", ".db");
  REQUIRE(files.size() == 3);
  CHECK(files[0].name == "svc-20260301T000000Z.db");
  CHECK(files[0].bytes == 3);
  CHECK(files[2].name == "svc-20260101T000000Z.db");

  CHECK(store::rotate_backups(dir.path(), "svc-", ".db", 2) == 1);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "svc-20260101T000000Z.db"));
  CHECK(std::filesystem::exists(dir.path() / "other-20260401T000000Z.db"));
  CHECK(store::backup_files(dir.path(), "svc-", ".db").size() == 2);
  CHECK(store::rotate_backups(dir.path(), "svc-", ".db", 5) == 0);
  CHECK(store::backup_files(dir.path() / "missing", "svc-", ".db").empty());
}
