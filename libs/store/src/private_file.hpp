#pragma once
// Internal: database files readable by their owner only, whatever the umask.
#include <filesystem>

namespace store::detail {

// Creates `file` empty with mode 0600 when it is missing and tightens an existing file (and its
// -wal, -shm and -journal companions) to 0600. SQLite gives the companions it creates later the
// main file's mode. Names SQLite treats specially (":memory:", "", URIs) are left alone.
void make_private(const std::filesystem::path& file);

}  // namespace store::detail
