// /api/admin routes: parse and validate input, call Administration, shape the output.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace auth {

namespace {

namespace json = boost::json;

[[noreturn]] void invalid(std::string_view name, std::string_view rule) {
  throw common::ApiError::validation("'" + std::string(name) + "' " + std::string(rule));
}

// An optional query parameter: 1..max_chars characters on one line.
std::optional<std::string> query_text(const common::Request& req, std::string_view name, std::size_t max_chars = 100) {
  auto value = req.query_param(name);
  if (value) common::input::check_text(*value, name, {.min = 1, .max = max_chars});
  return value;
}

std::optional<std::string> query_enum(const common::Request& req, std::string_view name,
                                      std::initializer_list<std::string_view> allowed) {
  auto value = req.query_param(name);
  if (!value) return value;
  for (auto a : allowed)
    if (*value == a) return value;
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  invalid(name, "must be one of " + list);
}

std::optional<bool> query_bool(const common::Request& req, std::string_view name) {
  auto value = req.query_param(name);
  if (!value) return std::nullopt;
  if (*value == "true") return true;
  if (*value == "false") return false;
  invalid(name, "must be true or false");
}

std::optional<std::int64_t> query_time(const common::Request& req, std::string_view name) {
  auto value = req.query_param(name);
  if (!value) return std::nullopt;
  auto unix = common::parse_rfc3339(*value);
  if (!unix) invalid(name, "must be an RFC 3339 timestamp");
  return unix;
}

json::object admin_user_json(const User& u) {
  json::object o = user_json(u);
  o["suspended"] = u.suspended;
  o["failedLogins"] = u.failed_logins;
  o["lockedUntil"] = u.locked_until > 0 ? json::value(common::rfc3339_from_unix(u.locked_until)) : json::value(nullptr);
  o["updatedAt"] = common::rfc3339_from_unix(u.updated_at);
  return o;
}

json::object admin_session_json(const identity::Session& s) {
  return {{"id", s.id},
          {"userId", s.user_id},
          {"ip", s.ip},
          {"userAgent", s.user_agent},
          {"createdAt", common::rfc3339_from_unix(s.created_at)},
          {"lastUsedAt", common::rfc3339_from_unix(s.last_used_at)},
          {"expiresAt", common::rfc3339_from_unix(s.expires_at)}};
}

json::value optional_json(const std::optional<std::string>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object audit_json(const audit::Entry& e) {
  json::value detail;
  try {
    detail = json::parse(e.detail);
  } catch (const std::exception&) {
    detail = json::object{};
  }
  return {{"id", e.id},
          {"at", common::rfc3339_from_unix(e.at)},
          {"action", e.action},
          {"userId", optional_json(e.user_id)},
          {"actorId", optional_json(e.actor_id)},
          {"ip", e.ip},
          {"detail", std::move(detail)}};
}

template <class T, class F>
common::Response page_of(const Page<T>& page, const common::PageRequest& request, F&& shape) {
  json::array items;
  for (const auto& item : page.first) items.push_back(shape(item));
  return common::envelope_page(std::move(items), page.second, request);
}

common::Response list_users(Administration& a, common::Request& req) {
  auto page = common::parse_page(req);
  users::Search filter{query_text(req, "q"),
                       query_enum(req, "tier", {"community", "solo", "pro", "business", "enterprise"}),
                       query_enum(req, "role", {"user", "admin"}), query_bool(req, "suspended")};
  return page_of(a.users(filter, page.limit, page.offset()), page, admin_user_json);
}

common::Response show_user(Administration& a, common::Request& req) {
  auto d = a.user(std::string(req.param("id")));
  json::array sessions, audit, subscriptions;
  for (const auto& s : d.sessions) sessions.push_back(admin_session_json(s));
  for (const auto& s : d.subscriptions) subscriptions.push_back(subscription_json(s));
  for (const auto& e : d.recent_audit) audit.push_back(audit_json(e));
  return common::envelope_ok(json::object{
      {"user", admin_user_json(d.user)},
      {"sessions", std::move(sessions)},
      {"twoFactor", {{"enabled", d.two_factor.enabled}, {"backupCodesRemaining", d.two_factor.backup_codes_remaining}}},
      {"recentAudit", std::move(audit)},
      {"subscriptions", std::move(subscriptions)}});
}

common::Response update_user(Administration& a, common::Request& req) {
  auto body = req.json_object();
  UserChange change{
      common::input::optional_one_of(body, "role", {"user", "admin"}),
      common::input::optional_one_of(body, "tier", {"community", "solo", "pro", "business", "enterprise"}),
      common::input::optional_boolean(body, "suspended")};
  if (!change.role && !change.tier && !change.suspended) invalid("role", "or 'tier' or 'suspended' is required");
  auto user = a.update_user(principal_of(req), std::string(req.param("id")), change, client_of(req));
  return common::envelope_ok(json::object{{"user", admin_user_json(user)}});
}

common::Response list_sessions(Administration& a, common::Request& req) {
  auto page = common::parse_page(req);
  return page_of(a.sessions(query_text(req, "userId", 64), page.limit, page.offset()), page, admin_session_json);
}

common::Response revoke_session(Administration& a, common::Request& req) {
  a.revoke_session(principal_of(req), std::string(req.param("id")), client_of(req));
  return common::envelope_ok(json::object{{"message", "session revoked"}});
}

common::Response list_audit(Administration& a, common::Request& req) {
  auto page = common::parse_page(req);
  audit::Filter filter{query_text(req, "action", 64), query_text(req, "actor", 64), query_text(req, "userId", 64),
                       query_time(req, "from"), query_time(req, "to")};
  return page_of(a.audit_entries(filter, page.limit, page.offset()), page, audit_json);
}

common::Response stats(Administration& a, common::Request&) {
  Stats s = a.stats();
  json::object by_tier, by_role;
  for (const auto& [k, v] : s.by_tier) by_tier[k] = v;
  for (const auto& [k, v] : s.by_role) by_role[k] = v;
  json::array signups;
  for (const auto& [day, n] : s.signups_per_day) signups.push_back(json::object{{"date", day}, {"count", n}});
  return common::envelope_ok(json::object{
      {"users", {{"total", s.users}, {"suspended", s.suspended}, {"byTier", by_tier}, {"byRole", by_role}}},
      {"signupsPerDay", std::move(signups)},
      {"activeSessions", s.active_sessions}});
}

}  // namespace

// In the order of the API reference.
std::vector<common::Route> admin_routes(Administration& a) {
  return {
      {.method = "GET",
       .path = "/api/admin/users",
       .auth = "admin",
       .query = {"limit", "page", "q", "role", "suspended", "tier"},
       .handler = [&a](common::Request& r) { return list_users(a, r); }},
      {.method = "GET",
       .path = "/api/admin/users/{id}",
       .auth = "admin",
       .handler = [&a](common::Request& r) { return show_user(a, r); }},
      {.method = "PATCH",
       .path = "/api/admin/users/{id}",
       .auth = "admin",
       .fields = {"role", "suspended", "tier"},
       .handler = [&a](common::Request& r) { return update_user(a, r); }},
      {.method = "GET",
       .path = "/api/admin/sessions",
       .auth = "admin",
       .query = {"limit", "page", "userId"},
       .handler = [&a](common::Request& r) { return list_sessions(a, r); }},
      {.method = "DELETE",
       .path = "/api/admin/sessions/{id}",
       .auth = "admin",
       .handler = [&a](common::Request& r) { return revoke_session(a, r); }},
      {.method = "GET",
       .path = "/api/admin/audit",
       .auth = "admin",
       .query = {"action", "actor", "from", "limit", "page", "to", "userId"},
       .handler = [&a](common::Request& r) { return list_audit(a, r); }},
      {.method = "GET",
       .path = "/api/admin/stats",
       .auth = "admin",
       .handler = [&a](common::Request& r) { return stats(a, r); }},
  };
}

}  // namespace auth
