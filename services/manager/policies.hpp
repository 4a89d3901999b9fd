#pragma once
// Policies: validated rules, versions with history, per-agent overrides, and the version each
// agent should run (what heartbeat answers carry).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/envelope.hpp"
#include "store/database.hpp"

namespace manager {

struct PolicyDraft {
  std::string name;
  std::optional<std::string> description;
  boost::json::array rules;  // already validated
};

// A published version: fleet-wide, or one agent's override.
struct Policy {
  std::string id;  // pol-<8 hex>
  std::int64_t version = 0;
  std::string scope;  // fleet | agent
  std::string name;
  std::optional<std::string> description;
  boost::json::array rules;     // validated rule documents, as stored (a custom rule's condition is free-form)
  std::int64_t updated_at = 0;  // unix seconds
  std::optional<std::int64_t> applied_to;  // set on publication: how many agents it applies to
};

// Parses and validates a policy body ({name, description?, rules[]}); throws ApiError 400
// naming the rule and field.
PolicyDraft parse_policy(const boost::json::object& body);

class Policies {
 public:
  explicit Policies(store::Database& db) : db_(db) {}

  // Publishes a new fleet-wide version; returns it.
  Policy publish(const PolicyDraft& draft);
  std::optional<Policy> active();
  std::pair<std::vector<Policy>, std::int64_t> history(const common::PageRequest& page);
  // The agent's override, else the active policy; nullopt when neither exists. Throws
  // ApiError 404 for an unknown agent.
  std::optional<Policy> for_agent(const std::string& agent_id);
  // Sets the agent's override to a new version; ApiError 404 for an unknown agent.
  Policy override_for(const std::string& agent_id, const PolicyDraft& draft);
  // Removes the override; false when there was none. ApiError 404 for an unknown agent.
  bool clear_override(const std::string& agent_id);
  // The version an agent should run (0 when no policy exists).
  std::int64_t version_for(const std::string& agent_id);
  // The same inside a transaction the caller holds (a heartbeat's write).
  static std::int64_t version_for(store::Connection& c, const std::string& agent_id);

 private:
  store::Database& db_;
};

}  // namespace manager
