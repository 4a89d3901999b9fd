#pragma once
// Small file helpers shared by services: whole-file reads and atomic writes.
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace common {

// The file's bytes; throws ConfigError naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Writes to a temporary sibling with `mode`, fsyncs it, then renames it over `path`, so a
// reader sees the old or the new content, never a partial file.
void write_file_atomic(const std::filesystem::path& path, const std::string& data, mode_t mode);

}  // namespace common
