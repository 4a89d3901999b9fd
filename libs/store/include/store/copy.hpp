#pragma once
// Moving a service's store from SQLite to PostgreSQL: every table's rows copied in one
// PostgreSQL transaction, parents before children, identity counters moved past the copied ids.
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "store/database.hpp"

namespace store {

struct CopyOptions {
  // Tables the target's migrations fill (e.g. service_meta): emptied before the copy. Every
  // other table of the target must be empty, or nothing is copied.
  std::set<std::string> seeded;
};

// Copies every table of the SQLite `from` (but schema_migrations) into the same table of the
// PostgreSQL `to`, both migrated by the caller (every version applied to `from` must be applied
// to `to`, which may have PostgreSQL-only steps): columns by name,
// SQLite's rowid too where the target has a `rowid` column; an empty table the target lacks is
// left out. Runs as one write() of `to`, so a
// failure leaves the target as it was. Returns the rows copied per table. Throws Error (a
// target table not empty, a schema version or table that differs).
std::map<std::string, std::int64_t> copy_to_postgres(Database& from, Database& to, const CopyOptions& options = {});

}  // namespace store
