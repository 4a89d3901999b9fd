// GDPR routes: consents, data export, account deletion.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "input.hpp"
#include "routes.hpp"

namespace auth {

namespace {

namespace json = boost::json;

json::object consents_json(const Consents& c) {
  return {{"termsVersion", c.terms_version ? json::value(*c.terms_version) : json::value(nullptr)},
          {"termsAcceptedAt", common::rfc3339_or_null(c.terms_accepted_at)},
          {"marketing", c.marketing},
          {"marketingUpdatedAt", common::rfc3339_or_null(c.marketing_updated_at)}};
}

json::object export_json(const PersonalData& d) {
  json::object profile = user_json(d.user);
  profile["suspended"] = d.user.suspended;
  profile["updatedAt"] = common::rfc3339_from_unix(d.user.updated_at);
  json::array sessions, audit, subscriptions, usage;
  for (const auto& s : d.subscriptions) subscriptions.push_back(subscription_json(s));
  for (const auto& u : d.usage)
    usage.push_back({{"meter", u.meter},
                     {"period", u.period.empty() ? json::value(nullptr) : json::value(u.period)},
                     {"value", u.value},
                     {"updatedAt", common::rfc3339_from_unix(u.updated_at)}});
  for (const auto& [s, revoked_at] : d.sessions)
    sessions.push_back({{"id", s.id},
                        {"ip", s.ip},
                        {"userAgent", s.user_agent},
                        {"createdAt", common::rfc3339_from_unix(s.created_at)},
                        {"lastUsedAt", common::rfc3339_from_unix(s.last_used_at)},
                        {"expiresAt", common::rfc3339_from_unix(s.expires_at)},
                        {"revokedAt", common::rfc3339_or_null(revoked_at)}});
  for (const auto& e : d.audit) {
    json::value detail;
    try {
      detail = json::parse(e.detail);
    } catch (const std::exception&) {
      detail = json::object{};
    }
    audit.push_back({{"id", e.id},
                     {"at", common::rfc3339_from_unix(e.at)},
                     {"action", e.action},
                     {"ip", e.ip},
                     {"detail", std::move(detail)}});
  }
  return {
      {"exportedAt", common::rfc3339_now()},
      {"profile", std::move(profile)},
      {"sessions", std::move(sessions)},
      {"twoFactor", {{"enabled", d.two_factor.enabled}, {"backupCodesRemaining", d.two_factor.backup_codes_remaining}}},
      {"consents", consents_json(d.consents)},
      {"subscriptions", std::move(subscriptions)},
      {"usage", std::move(usage)},
      {"auditEntries", std::move(audit)}};
}

common::Response export_data(Privacy& p, common::Request& req) {
  const auto& caller = principal_of(req);
  auto res = common::Response::json(export_json(p.export_data(caller, client_of(req))));
  res.headers.add("Content-Disposition", "attachment; filename=\"panguard-export-" + caller.user_id + ".json\"");
  return res;
}

common::Response delete_account(Privacy& p, common::Request& req) {
  auto body = req.json_object();
  auto erased = p.delete_account(principal_of(req), input::password(body, "password"));
  json::object tables;
  for (const auto& [table, rows] : erased) tables[table] = rows;
  return common::envelope_ok(json::object{{"deleted", true}, {"tables", std::move(tables)}});
}

common::Response show_consents(Privacy& p, common::Request& req) {
  return common::envelope_ok(consents_json(p.consents(principal_of(req))));
}

common::Response change_consents(Privacy& p, common::Request& req) {
  auto body = req.json_object();
  ConsentChange change{common::input::optional_text(body, "termsVersion", {.min = 1, .max = 32}),
                       common::input::optional_boolean(body, "marketing")};
  if (!change.terms_version && !change.marketing)
    throw common::ApiError::validation("'termsVersion' or 'marketing' is required");
  return common::envelope_ok(consents_json(p.change_consents(principal_of(req), change, client_of(req))));
}

}  // namespace

// In the order of the API reference.
std::vector<common::Route> gdpr_routes(Privacy& p) {
  return {
      {.method = "GET",
       .path = "/api/auth/export-data",
       .auth = "user",
       .handler = [&p](common::Request& r) { return export_data(p, r); },
       .offload = true},
      {.method = "DELETE",
       .path = "/api/auth/delete-account",
       .auth = "user",
       .limit = "login",
       .fields = {"password"},
       .handler = [&p](common::Request& r) { return delete_account(p, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/auth/consents",
       .auth = "user",
       .handler = [&p](common::Request& r) { return show_consents(p, r); }},
      {.method = "PUT",
       .path = "/api/auth/consents",
       .auth = "user",
       .fields = {"marketing", "termsVersion"},
       .handler = [&p](common::Request& r) { return change_consents(p, r); }},
  };
}

}  // namespace auth
