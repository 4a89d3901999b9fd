#include "workloads/workloads.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "security/random.hpp"
#include "store/time.hpp"
#include "workload/egg.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::string_view kColumns =
    "SELECT id, org_id, source, spec, created_by, created_at, updated_at FROM workloads ";

WorkloadRecord from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), workload::workload_from_json(json::parse(q.text(3))),
          q.text(4), q.int64(5), q.int64(6)};
}

// "pterodactyl-panel__egg-vanilla-minecraft.json" -> "vanilla-minecraft",
// "pelican-eggs-generic__nodejs_pterodactyl-egg-nodejs-generic.json" -> "nodejs-generic": the egg's
// own file name (after its repository and folder) without the words every egg carries.
std::string template_id(std::string_view file_name) {
  auto stem = file_name.substr(0, file_name.rfind(".json"));
  if (auto cut = stem.rfind('_'); cut != std::string_view::npos) stem.remove_prefix(cut + 1);
  std::string out;
  std::size_t start = 0;
  while (start <= stem.size()) {
    auto end = std::min(stem.find('-', start), stem.size());
    auto word = stem.substr(start, end - start);
    if (word != "egg" && word != "pterodactyl" && !word.empty()) out += (out.empty() ? "" : "-") + std::string(word);
    start = end + 1;
  }
  return out;
}

// What each shipped egg is listed as, and what it asks of a node (eggs carry no requests; these
// are the sizes the eggs' own descriptions and the games' guides suggest for a small server).
struct TemplateFacts {
  std::string_view id, category;
  workload::Amounts requests;
};

constexpr std::int64_t kMiB = 1024 * 1024, kGiB = 1024 * kMiB;
const TemplateFacts kTemplateFacts[] = {
    {"paper", "game-servers", {1000, 1 * kGiB, 2 * kGiB}},
    {"vanilla-minecraft", "game-servers", {1000, 1 * kGiB, 2 * kGiB}},
    {"mumble-server", "voice-servers", {250, 128 * kMiB, 512 * kMiB}},
    {"nodejs-generic", "apps", {500, 256 * kMiB, 1 * kGiB}},
    {"python-generic", "apps", {500, 256 * kMiB, 1 * kGiB}},
};

WorkloadTemplate make_template(const common::EmbeddedFile& egg) {
  WorkloadTemplate t{template_id(egg.name), "apps", workload::import_egg(egg.data).workload};
  for (const auto& facts : kTemplateFacts) {
    if (facts.id != t.id) continue;
    t.category = std::string(facts.category);
    if (t.workload.spec.resources.requests == workload::Amounts{}) t.workload.spec.resources.requests = facts.requests;
  }
  return t;
}

bool name_taken(store::Connection& db, std::string_view org, std::string_view name, std::string_view except = {}) {
  return db.query_int("SELECT 1 FROM workloads WHERE org_id = ? AND name = ? AND id != ?", org, name, except)
      .has_value();
}

common::ApiError name_conflict(std::string_view name) {
  return common::ApiError::conflict("a workload named '" + std::string(name) + "' exists in this organization");
}

}  // namespace

namespace workloads {

workload::Workload parse(std::string_view text) {
  try {
    return workload::parse_workload(text);
  } catch (const workload::SpecError& e) {
    throw common::ApiError::validation(e.what());
  }
}

const std::vector<WorkloadTemplate>& templates() {
  static const auto all = [] {
    std::vector<WorkloadTemplate> out;
    for (const auto& egg : workload::shipped_eggs()) out.push_back(make_template(egg));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }();
  return all;
}

const WorkloadTemplate& template_named(std::string_view id) {
  const auto& all = templates();
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& t) { return t.id == id; });
  if (it == all.end()) throw common::ApiError::not_found("no workload template '" + std::string(id) + "'");
  return *it;
}

std::optional<WorkloadRecord> find(store::Connection& db, std::string_view org_id, std::string_view id) {
  auto q = db.prepare(std::string(kColumns) + "WHERE id = ? AND org_id = ?");
  q->bind_all(id, org_id);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

}  // namespace workloads

std::vector<WorkloadRecord> Workloads::list(const Caller& caller) {
  return db_.read([&](store::Connection& db) {
    std::vector<WorkloadRecord> out;
    auto q = db.prepare(std::string(kColumns) + "WHERE org_id = ? ORDER BY name");
    q->bind_all(caller.org_id);
    while (q->step()) out.push_back(from_row(*q));
    return out;
  });
}

WorkloadRecord Workloads::get(const Caller& caller, std::string_view id) {
  auto found = db_.read([&](store::Connection& db) { return workloads::find(db, caller.org_id, id); });
  if (!found) throw common::ApiError::not_found("workload not found");
  return *found;
}

WorkloadRecord Workloads::create(const Caller& caller, std::string_view document) {
  return insert(caller, workloads::parse(document), "spec");
}

WorkloadRecord Workloads::update(const Caller& caller, std::string_view id, std::string_view document,
                                 const Check& check) {
  auto parsed = workloads::parse(document);
  return db_.write([&](store::Connection& db) {
    if (!workloads::find(db, caller.org_id, id)) throw common::ApiError::not_found("workload not found");
    if (name_taken(db, caller.org_id, parsed.metadata.name, id)) throw name_conflict(parsed.metadata.name);
    check(db, parsed);
    db.execute("UPDATE workloads SET name = ?, spec = ?, updated_at = ? WHERE id = ?", parsed.metadata.name,
               workload::to_json_text(parsed), store::unix_now(), id);
    audit::record(db, "workload.updated", caller.actor(), caller.org_id, {}, {{"workload_id", id}});
    return *workloads::find(db, caller.org_id, id);
  });
}

void Workloads::remove(const Caller& caller, std::string_view id) {
  db_.write([&](store::Connection& db) {
    if (!workloads::find(db, caller.org_id, id)) throw common::ApiError::not_found("workload not found");
    if (auto n = db.query_int("SELECT COUNT(*) FROM instances WHERE workload_id = ?", id); n.value_or(0) > 0)
      throw common::ApiError::conflict("the workload has " + std::to_string(*n) +
                                       " instance(s); delete them before the workload");
    db.execute("DELETE FROM workloads WHERE id = ?", id);
    audit::record(db, "workload.deleted", caller.actor(), caller.org_id, {}, {{"workload_id", id}});
  });
}

WorkloadRecord Workloads::from_template(const Caller& caller, std::string_view template_id,
                                        const std::optional<std::string>& name) {
  const auto& t = workloads::template_named(template_id);
  auto made = t.workload;
  if (name) made.metadata.name = *name;
  return insert(caller, std::move(made), "template:" + t.id);
}

WorkloadRecord Workloads::import_egg(const Caller& caller, std::string_view egg) {
  try {
    auto imported = workload::import_egg(egg);
    return insert(caller, std::move(imported.workload), "egg:" + std::string(workload::to_string(imported.format)));
  } catch (const workload::SpecError& e) {
    throw common::ApiError::validation(e.what());
  }
}

WorkloadRecord Workloads::insert(const Caller& caller, workload::Workload workload, std::string source) {
  return db_.write([&](store::Connection& db) {
    if (name_taken(db, caller.org_id, workload.metadata.name)) throw name_conflict(workload.metadata.name);
    auto id = security::uuid_v4();
    auto now = store::unix_now();
    db.execute(
        "INSERT INTO workloads (id, org_id, name, spec, source, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        id, caller.org_id, workload.metadata.name, workload::to_json_text(workload), source, caller.user_id, now, now);
    audit::record(db, "workload.created", caller.actor(), caller.org_id, {}, {{"workload_id", id}, {"source", source}});
    return *workloads::find(db, caller.org_id, id);
  });
}

}  // namespace shardlyn
