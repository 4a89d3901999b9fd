#include "store/error.hpp"

#include <sqlite3.h>

namespace store {

Error::Error(int code, const std::string& message)
    : std::runtime_error(message + " [" + sqlite3_errstr(code) + ", code " + std::to_string(code) + "]"), code_(code) {}

bool Error::is_constraint() const noexcept { return primary_code() == SQLITE_CONSTRAINT; }

bool Error::is_busy() const noexcept { return primary_code() == SQLITE_BUSY; }

}  // namespace store
