#pragma once
// Online backups of the database into TC_BACKUP_DIR (writers are not blocked), keeping the
// newest few.
#include <cstdint>
#include <filesystem>
#include <string>

#include "audit.hpp"
#include "store/database.hpp"

namespace tc {

struct BackupFile {
  std::string name;  // threat-cloud-20260131T120000Z.db
  std::string path;
  std::uintmax_t bytes = 0;
  std::string created_at;
};

class Backups {
 public:
  // An empty `dir` means backups are not configured.
  Backups(store::Database& db, std::filesystem::path dir, int keep) : db_(db), dir_(std::move(dir)), keep_(keep) {}
  bool configured() const { return !dir_.empty(); }
  // Writes a consistent snapshot, records it in the audit log, then deletes all but the
  // newest `keep` backups. Throws store::Error or std::filesystem::filesystem_error.
  BackupFile run(const Actor& by);

 private:
  store::Database& db_;
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace tc
