// Recorded forgot-password requests: kept in order until taken, each taken once.
#include <catch2/catch.hpp>
#include <vector>

#include "../store/temp_dir.hpp"
#include "identity/reset_requests.hpp"
#include "identity/schema.hpp"
#include "store/database.hpp"

TEST_CASE("reset requests are taken oldest first, once each", "[identity][reset]") {
  store_test::TempDir dir;
  store::Database db{dir / "reset.db"};
  common::migrate_libraries(db, identity::migrations());
  db.write([](store::Connection& c) {
    for (const char* email : {"a@example.com", "b@example.com", "c@example.com"})
      identity::reset_requests::record(c, email, "192.0.2.1");
  });
  auto first = db.write([](store::Connection& c) { return identity::reset_requests::take(c, 2); });
  REQUIRE(first.size() == 2);
  CHECK(first[0].email == "a@example.com");
  CHECK(first[1].email == "b@example.com");
  CHECK(first[0].ip == "192.0.2.1");
  CHECK(first[0].requested_at > 0);
  auto rest = db.write([](store::Connection& c) { return identity::reset_requests::take(c, 100); });
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].email == "c@example.com");
  CHECK(db.write([](store::Connection& c) { return identity::reset_requests::take(c, 100); }).empty());
}
