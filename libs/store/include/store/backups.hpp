#pragma once
// Backup files in a directory: the ones a service wrote (a name prefix and suffix, with a
// timestamp between them that sorts by time) listed newest first, and rotation to the newest N.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace store {

struct BackupFile {
  std::filesystem::path path;
  std::string name;  // file name
  std::uintmax_t bytes = 0;
};

// Regular files named <prefix>...<suffix> in `dir`, newest (greatest name) first; none when
// the directory does not exist.
std::vector<BackupFile> backup_files(const std::filesystem::path& dir, std::string_view prefix,
                                     std::string_view suffix);
// Removes all but the `keep` newest of those files; returns how many were removed.
std::size_t rotate_backups(const std::filesystem::path& dir, std::string_view prefix, std::string_view suffix,
                           std::size_t keep);

}  // namespace store
