#pragma once
// Internal: turning SQLite result codes into store::Error.
#include <sqlite3.h>

#include <string>
#include <string_view>

#include "store/error.hpp"

namespace store::detail {

// Throws Error(rc, "<context>: <db's message>"); uses the generic text when db is null.
[[noreturn]] inline void throw_error(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error(rc, message);
}

// Returns normally when rc is SQLITE_OK, otherwise throws as throw_error().
inline void check(sqlite3* db, int rc, std::string_view context) {
  if (rc != SQLITE_OK) throw_error(db, rc, context);
}

}  // namespace store::detail
