#include "backups.hpp"

#include "common/clock.hpp"
#include "store/backups.hpp"

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

  store::rotate_backups(dir_, kPrefix, kSuffix, static_cast<std::size_t>(keep_));
  return file;
}

}  // namespace tc
