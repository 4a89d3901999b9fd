#pragma once
// store::Error: the one exception type of libstore, carrying SQLite's extended result code.
#include <stdexcept>
#include <string>

namespace store {

class Error : public std::runtime_error {
 public:
  // Wraps a message and an SQLite (extended) result code; what() includes both.
  Error(int code, const std::string& message);

  // The extended result code, e.g. SQLITE_CONSTRAINT_UNIQUE (2067).
  int code() const noexcept { return code_; }
  // The primary result code (low 8 bits), e.g. SQLITE_CONSTRAINT (19).
  int primary_code() const noexcept { return code_ & 0xff; }
  // True for the SQLITE_CONSTRAINT family (unique, foreign key, check, not null...): map to 409.
  bool is_constraint() const noexcept;
  // True when the database stayed locked past the busy timeout (SQLITE_BUSY family).
  bool is_busy() const noexcept;

 private:
  int code_;
};

}  // namespace store
