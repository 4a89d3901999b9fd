#include "store/backups.hpp"

#include <algorithm>
#include <system_error>

namespace store {

std::vector<BackupFile> backup_files(const std::filesystem::path& dir, std::string_view prefix,
                                     std::string_view suffix) {
  std::vector<BackupFile> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.size() < prefix.size() + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix))
      continue;
    out.push_back({entry.path(), name, entry.file_size(ec)});
  }
  std::sort(out.begin(), out.end(), [](const BackupFile& a, const BackupFile& b) { return a.name > b.name; });
  return out;
}

std::size_t rotate_backups(const std::filesystem::path& dir, std::string_view prefix, std::string_view suffix,
                           std::size_t keep) {
  auto files = backup_files(dir, prefix, suffix);
  std::size_t removed = 0;
  for (std::size_t i = keep; i < files.size(); ++i) removed += std::filesystem::remove(files[i].path) ? 1 : 0;
  return removed;
}

}  // namespace store
