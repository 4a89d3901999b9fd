// /api/audit-log: who changed what (admin).
#include <any>
#include <array>

#include "api_keys.hpp"
#include "audit.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace tc {

namespace {

constexpr std::array<std::string_view, 14> kActions{
    "key.create",   "key.revoke",         "ioc.upload",      "ioc.update",     "ioc.sighting",
    "admin.backup", "rule.upload",        "source.save",     "feed.access",    "threat.upload",
    "trap.report",  "campaign.correlate", "campaign.create", "campaign.update"};
constexpr std::array<std::string_view, 8> kEntityTypes{"api_key", "ioc",  "backup",       "rule",
                                                       "source",  "feed", "threat_event", "campaign"};

common::Response list_audit(const AuditLog& log, common::Request& req) {
  auto page = common::parse_page(req);
  AuditFilter f;
  f.action = common::input::query_one_of(req, "action", kActions);
  f.entity_type = common::input::query_one_of(req, "entityType", kEntityTypes);
  f.entity_id = common::input::query_text(req, "entityId", 64);
  f.since = common::input::query_timestamp_text(req, "since");
  auto [entries, total] = log.list(f, page.limit, page.offset());
  boost::json::array items;
  for (auto& e : entries)
    items.push_back({{"id", e.id},
                     {"at", e.at},
                     {"actor", e.actor},
                     {"ip", e.ip},
                     {"action", e.action},
                     {"entityType", e.entity_type},
                     {"entityId", e.entity_id},
                     {"details", std::move(e.details)}});
  return common::envelope_page(std::move(items), total, page);
}

}  // namespace

Actor actor_of(const common::Request& req) {
  const auto* caller = std::any_cast<Caller>(&req.principal);
  return Actor{caller && !caller->anonymous ? caller->key_id : "anonymous", req.client_ip};
}

std::vector<common::Route> audit_routes(AuditLog& log) {
  return {{.method = "GET",
           .path = "/api/audit-log",
           .auth = "admin",
           .limit = "admin",
           .query = {"action", "entityId", "entityType", "limit", "page", "since"},
           .handler = [&log](common::Request& r) { return list_audit(log, r); },
           .offload = true}};
}

}  // namespace tc
