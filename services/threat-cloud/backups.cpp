#include "backups.hpp"

#include <algorithm>
#include <vector>

#include "common/clock.hpp"

namespace tc {

namespace {

constexpr std::string_view kPrefix = "threat-cloud-";
constexpr std::string_view kSuffix = ".db";

// "2026-01-31T12:00:00Z" -> "20260131T120000Z": sorts by time and is a plain file name.
std::string compact(std::string_view rfc3339) {
  std::string out;
  for (char c : rfc3339)
    if (c != '-' && c != ':') out += c;
  return out;
}

}  // namespace

BackupFile Backups::run(const Actor& by) {
  std::filesystem::create_directories(dir_);
  BackupFile file;
  file.created_at = common::rfc3339_now();
  file.name = std::string(kPrefix) + compact(file.created_at) + std::string(kSuffix);
  auto path = dir_ / file.name;
  db_.backup_to(path);
  file.path = path.string();
  file.bytes = std::filesystem::file_size(path);
  db_.write([&](store::Connection& c) {
    record_audit(c, by, "admin.backup", "backup", file.name,
                 {{"bytes", static_cast<std::int64_t>(file.bytes)}, {"keep", keep_}});
  });

  std::vector<std::filesystem::path> existing;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    auto name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with(kPrefix) && name.ends_with(kSuffix))
      existing.push_back(entry.path());
  }
  std::sort(existing.begin(), existing.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep_) < existing.size(); ++i)
    std::filesystem::remove(existing[i]);
  return file;
}

}  // namespace tc
