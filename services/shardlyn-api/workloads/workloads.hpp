#pragma once
// Workload Endpoints' rules: an organisation's shardlyn/v1 workloads, written as JSON or YAML,
// imported from Pterodactyl and Pelican eggs or made from a shipped template, each parsed and
// checked by libs/workload (a bad document is a 400 naming every bad field).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/access.hpp"
#include "store/database.hpp"
#include "workload/spec.hpp"

namespace shardlyn {

struct WorkloadRecord {
  std::string id;
  std::string org_id;
  std::string source;  // spec | egg:<format> | template:<id>
  workload::Workload workload;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// A shipped template: an egg of libs/workload/eggs, by the id from-template and deploy take,
// listed under its category (GET /v1/templates/{category}) with the requests placement packs.
struct WorkloadTemplate {
  std::string id;        // "paper", "vanilla-minecraft", "mumble-server", ...
  std::string category;  // "game-servers", "voice-servers", "apps"
  workload::Workload workload;
};

namespace workloads {

// The workload's text as a 400 naming each bad field ("spec.stopTimeout: must be a duration").
workload::Workload parse(std::string_view text);
// The templates made from the shipped eggs, ordered by id.
const std::vector<WorkloadTemplate>& templates();
// The template named `id`; 404 when there is none.
const WorkloadTemplate& template_named(std::string_view id);
// A workload of the organisation, on the caller's connection (instances read it there).
std::optional<WorkloadRecord> find(store::Connection& db, std::string_view org_id, std::string_view id);

}  // namespace workloads

class Workloads {
 public:
  explicit Workloads(store::Database& db) : db_(db) {}

  std::vector<WorkloadRecord> list(const Caller& caller);
  WorkloadRecord get(const Caller& caller, std::string_view id);
  WorkloadRecord create(const Caller& caller, std::string_view document);
  // Replaces the spec; `check` runs in the same transaction with the new workload (the
  // instances' check that they still resolve) and may refuse it by throwing.
  using Check = std::function<void(store::Connection&, const workload::Workload&)>;
  WorkloadRecord update(const Caller& caller, std::string_view id, std::string_view document, const Check& check);
  // 409 while instances use it.
  void remove(const Caller& caller, std::string_view id);
  // A workload from a shipped template; `name` replaces the template's metadata.name.
  WorkloadRecord from_template(const Caller& caller, std::string_view template_id,
                               const std::optional<std::string>& name);
  WorkloadRecord import_egg(const Caller& caller, std::string_view egg);

 private:
  WorkloadRecord insert(const Caller& caller, workload::Workload workload, std::string source);

  store::Database& db_;
};

}  // namespace shardlyn
