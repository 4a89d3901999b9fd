#pragma once
// Detection rules (Sigma / ATR) that agents fetch, unique by rule id.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit.hpp"
#include "store/database.hpp"

namespace tc {

struct Rule {
  std::string rule_id;
  std::string content;
  std::string source;
  std::string created_at;
  std::string updated_at;
};

struct RuleUpsert {
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

class Rules {
 public:
  explicit Rules(store::Database& db) : db_(db) {}
  // Inserts or replaces every rule in one transaction, with one audit entry.
  RuleUpsert save(const std::vector<Rule>& rules, const Actor& by);
  // Rules ordered by id (filter by source, changed at or after `since`), with the total.
  std::pair<std::vector<Rule>, std::int64_t> list(const std::optional<std::string>& source,
                                                  const std::optional<std::string>& since, std::int64_t limit,
                                                  std::int64_t offset) const;

 private:
  store::Database& db_;
};

}  // namespace tc
