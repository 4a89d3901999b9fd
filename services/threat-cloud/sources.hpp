#pragma once
// Sources of IoCs with their reliability, licence and whether the licence allows
// redistribution; feeds leave out IoCs of sources that forbid it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit.hpp"
#include "store/database.hpp"

namespace tc {

struct Source {
  std::string name;
  std::string reliability;  // A-F
  std::string licence;
  bool redistribution = true;
  std::string url;
  std::string created_at;
  std::string updated_at;
  std::int64_t iocs = 0;  // IoCs naming this source (lists only)
};

// Creates or replaces the source `s.name` on `c` (inside the caller's write transaction).
void save_source(store::Connection& c, const Source& s);

class Sources {
 public:
  explicit Sources(store::Database& db) : db_(db) {}
  // Creates or replaces a source, with an audit entry; returns it as stored.
  Source save(const Source& s, const Actor& by);
  std::vector<Source> list() const;

 private:
  store::Database& db_;
};

}  // namespace tc
