// Admin Endpoints: platform administration and admin settings.
#include <boost/json.hpp>

#include "admin/routes.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/route_table.hpp"
#include "http/shapes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::int64_t kExportMax = 100000;

json::object plan_json(const Plan& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"price_cents", p.price_cents},
          {"currency", p.currency},
          {"max_nodes", p.max_nodes},
          {"max_instances", p.max_instances},
          {"max_memory_mb", p.max_memory_mb},
          {"active", p.active},
          {"created_at", common::rfc3339_from_unix(p.created_at)}};
}

json::object subscription_json(const Subscription& s) {
  return {{"id", s.id},
          {"organization_id", s.org_id},
          {"organization_name", s.org_name},
          {"plan_id", s.plan_id},
          {"plan_name", s.plan_name},
          {"status", s.status},
          {"created_at", common::rfc3339_from_unix(s.created_at)},
          {"updated_at", common::rfc3339_from_unix(s.updated_at)}};
}

json::object audit_json(const audit::Entry& e) {
  return {{"id", e.id},
          {"at", common::rfc3339_from_unix(e.at)},
          {"action", e.action},
          {"organization_id", json::value_from(e.org_id)},
          {"user_id", json::value_from(e.user_id)},
          {"actor_id", json::value_from(e.actor_id)},
          {"token_id", json::value_from(e.token_id)},
          {"ip", e.ip},
          {"detail", json::parse(e.detail)}};
}

// RFC 4180 field: quoted when it holds a comma, quote or line break; formula prefixes defused.
std::string csv_field(std::string_view v) {
  std::string s(v);
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

audit::Filter audit_filter(const common::Request& req) {
  audit::Filter f;
  auto text = [&](const char* name) -> std::optional<std::string> {
    auto v = req.query_param(name);
    if (v) common::input::check_text(*v, std::string("query parameter '") + name + "'", {.min = 1, .max = 100});
    return v;
  };
  f.action = text("action");
  f.org_id = text("organization_id");
  f.actor_id = text("actor_id");
  f.from = common::input::query_timestamp(req, "from");
  f.to = common::input::query_timestamp(req, "to");
  return f;
}

Plan plan_from(const json::object& body) {
  Plan p;
  p.name = common::input::text(body, "name", {.min = 1, .max = 64});
  p.price_cents = common::input::integer(body, "price_cents", 0, 100000000);
  p.currency = common::input::optional_one_of(body, "currency", {"usd", "eur", "gbp"}).value_or("usd");
  p.max_nodes = common::input::integer(body, "max_nodes", 0, 100000);
  p.max_instances = common::input::integer(body, "max_instances", 0, 1000000);
  p.max_memory_mb = common::input::integer(body, "max_memory_mb", 0, 1LL << 40);
  p.active = common::input::optional_boolean(body, "active").value_or(true);
  return p;
}

// The fields of a plan update, validated (at least one).
json::object plan_changes(const json::object& body) {
  json::object out;
  if (auto v = common::input::optional_text(body, "name", {.min = 1, .max = 64})) out["name"] = *v;
  if (auto v = common::input::optional_integer(body, "price_cents", 0, 100000000)) out["price_cents"] = *v;
  if (auto v = common::input::optional_one_of(body, "currency", {"usd", "eur", "gbp"})) out["currency"] = *v;
  if (auto v = common::input::optional_integer(body, "max_nodes", 0, 100000)) out["max_nodes"] = *v;
  if (auto v = common::input::optional_integer(body, "max_instances", 0, 1000000)) out["max_instances"] = *v;
  if (auto v = common::input::optional_integer(body, "max_memory_mb", 0, 1LL << 40)) out["max_memory_mb"] = *v;
  if (auto v = common::input::optional_boolean(body, "active")) out["active"] = *v;
  if (out.empty()) throw common::ApiError::validation("nothing to update: send at least one plan field");
  return out;
}

json::object org_admin_json(const Organization& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"created_by", o.created_by},
          {"member_count", o.member_count},
          {"created_at", common::rfc3339_from_unix(o.created_at)}};
}

std::string id_of(const common::Request& req, std::string_view what) { return fields::uuid_param(req, "id", what); }

json::object metrics_json(const PlatformMetrics& m) {
  return {{"users", m.users},
          {"suspended_users", m.suspended_users},
          {"platform_admins", m.platform_admins},
          {"organizations", m.organizations},
          {"live_sessions", m.live_sessions},
          {"active_api_tokens", m.active_api_tokens},
          {"pending_invites", m.pending_invites},
          {"audit_events_24h", m.audit_events_24h},
          {"failed_logins_24h", m.failed_logins_24h}};
}

json::object log_settings_json(const LogSettings& s) { return {{"level", s.level}}; }

common::Response show_metrics(AdminArea& a, common::Request&) {
  return common::Response::json(metrics_json(a.admin.metrics()));
}

common::Response list_organizations(AdminArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [items, total] = a.admin.organizations(page.limit, page.offset());
  json::array out;
  for (const auto& o : items) out.push_back(org_admin_json(o));
  return common::bare_page(std::move(out), total, page);
}

common::Response show_organization(AdminArea& a, common::Request& req) {
  auto [org, members] = a.admin.organization(id_of(req, "organization"));
  auto out = org_admin_json(org);
  json::array m;
  for (const auto& x : members)
    m.push_back({{"user_id", x.user_id}, {"email", x.email}, {"name", x.name}, {"role", x.role}});
  out["members"] = std::move(m);
  return common::Response::json(out);
}

common::Response list_plans(AdminArea& a, common::Request& req) {
  json::array items;
  for (const auto& plan : a.admin.plans()) items.push_back(plan_json(plan));
  return list_page(req, std::move(items));
}

common::Response create_plan(AdminArea& a, common::Request& req) {
  auto body = req.json_object();
  return common::Response::json(plan_json(a.admin.create_plan(caller_of(req), plan_from(body))), 201);
}

common::Response update_plan(AdminArea& a, common::Request& req) {
  auto body = req.json_object();
  auto changes = plan_changes(body);
  return common::Response::json(plan_json(a.admin.update_plan(caller_of(req), id_of(req, "plan"), changes)));
}

common::Response delete_plan(AdminArea& a, common::Request& req) {
  a.admin.delete_plan(caller_of(req), id_of(req, "plan"));
  return common::Response::empty(204);
}

common::Response list_subscriptions(AdminArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [items, total] = a.admin.subscriptions(page.limit, page.offset());
  json::array out;
  for (const auto& s : items) out.push_back(subscription_json(s));
  return common::bare_page(std::move(out), total, page);
}

common::Response update_subscription(AdminArea& a, common::Request& req) {
  auto body = req.json_object();
  auto plan = common::input::optional_text(body, "plan_id", {.min = 36, .max = 36});
  auto status = common::input::optional_one_of(body, "status", {"active", "trialing", "past_due", "canceled"});
  if (!plan && !status) throw common::ApiError::validation("send 'plan_id' or 'status'");
  return common::Response::json(
      subscription_json(a.admin.update_subscription(caller_of(req), id_of(req, "subscription"), plan, status)));
}

common::Response list_audit_logs(AdminArea& a, common::Request& req) {
  auto page = fields::page(req);
  auto [items, total] = a.admin.audit_log(audit_filter(req), page.limit, page.offset());
  json::array out;
  for (const auto& e : items) out.push_back(audit_json(e));
  return common::bare_page(std::move(out), total, page);
}

std::string audit_csv(const std::vector<audit::Entry>& items) {
  std::string csv = "id,at,action,organization_id,user_id,actor_id,token_id,ip,detail\r\n";
  for (const auto& e : items) {
    for (const auto& f : {e.id, common::rfc3339_from_unix(e.at), e.action, e.org_id.value_or(""),
                          e.user_id.value_or(""), e.actor_id.value_or(""), e.token_id.value_or(""), e.ip})
      csv += csv_field(f) + ",";
    csv += csv_field(e.detail) + "\r\n";
  }
  return csv;
}

common::Response export_audit_logs(AdminArea& a, common::Request& req) {
  auto format = common::input::query_one_of(req, "format", {"csv", "json"}).value_or("csv");
  auto filter = audit_filter(req);
  auto [items, total] = a.admin.audit_log(filter, kExportMax, 0);
  a.admin.record(caller_of(req), "admin.audit_exported", {{"format", format}, {"entries", items.size()}});
  common::Response res;
  if (format == "json") {
    json::array out;
    for (const auto& e : items) out.push_back(audit_json(e));
    res = common::Response::json(out);
  } else {
    res = common::Response::text(audit_csv(items), "text/csv; charset=utf-8");
  }
  res.headers.add("Content-Disposition", std::string("attachment; filename=\"audit-log.") + std::string(format) + "\"");
  res.headers.add("X-Total-Count", std::to_string(total));
  return res;
}

common::Response list_users(AdminArea& a, common::Request& req) { return user_page(a.users, req); }

common::Response suspend_user(AdminArea& a, common::Request& req) {
  return common::Response::json(user_json(a.users.set_suspended(caller_of(req), id_of(req, "user"), true)));
}

common::Response unsuspend_user(AdminArea& a, common::Request& req) {
  return common::Response::json(user_json(a.users.set_suspended(caller_of(req), id_of(req, "user"), false)));
}

common::Response show_log_settings(AdminArea& a, common::Request&) {
  return common::Response::json(log_settings_json(a.admin.log_settings()));
}

common::Response update_log_settings(AdminArea& a, common::Request& req) {
  auto body = req.json_object();
  auto level = common::input::optional_one_of(body, "level", {"debug", "info", "warn", "error"});
  if (!level) throw common::ApiError::validation("'level' is required");
  return common::Response::json(log_settings_json(a.admin.update_log_settings(caller_of(req), level)));
}

}  // namespace

Routes admin_routes(AdminArea& area) {
  const Guard admin{Auth::Admin, OrgScope::None};
  const std::vector<std::string> page = {"limit", "page", "per_page"};
  const std::vector<std::string> plan = {"active",    "currency", "max_instances", "max_memory_mb",
                                         "max_nodes", "name",     "price_cents"};
  const std::vector<std::string> filter = {"action", "organization_id", "actor_id", "from", "to"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  auto on = [&area](common::Response (*handler)(AdminArea&, common::Request&)) { return bind(area, handler); };
  return group(
      "/v1/admin", admin,
      {
          get("/metrics", "admin.metrics", on(show_metrics)),
          get("/organizations", "admin.organizations", on(list_organizations), {.query = page}),
          get("/organizations/{id}", "admin.organizations", on(show_organization)),
          get("/plans", "admin.plans", on(list_plans), {.query = page}),
          post("/plans", "admin.plans", on(create_plan), {.fields = plan}),
          put("/plans/{id}", "admin.plans", on(update_plan), {.fields = plan}),
          del("/plans/{id}", "admin.plans", on(delete_plan)),
          get("/subscriptions", "admin.subscriptions", on(list_subscriptions), {.query = page}),
          put("/subscriptions/{id}", "admin.subscriptions", on(update_subscription), {.fields = {"plan_id", "status"}}),
          get("/audit-logs", "admin.audit", on(list_audit_logs), {.query = with(filter, page)}),
          get("/audit-logs/export", "admin.audit", on(export_audit_logs),
              {.query = with({"format"}, filter), .offload = true}),
          get("/users", "admin.users", on(list_users), {.query = with(page, {"search"})}),
          post("/users/{id}/suspend", "admin.users", on(suspend_user)),
          post("/users/{id}/unsuspend", "admin.users", on(unsuspend_user)),
          get("/settings/logs", "admin.settings", on(show_log_settings)),
          put("/settings/logs", "admin.settings", on(update_log_settings), {.fields = {"level"}}),
      });
}

}  // namespace shardlyn
