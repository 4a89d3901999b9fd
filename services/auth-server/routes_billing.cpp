// /api/billing routes: plans, status, checkout, cancellation and the provider's webhook.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "plans.hpp"
#include "routes.hpp"

namespace auth {

namespace {

namespace json = boost::json;

json::value optional_int(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object plan_json(const Plan& p) {
  return {{"tier", p.tier},
          {"name", p.name},
          {"monthlyPriceCents", optional_int(p.monthly_price_cents)},
          {"currency", "USD"},
          {"selfService", p.self_service},
          {"limits",
           {{"endpoints", optional_int(p.endpoints)},
            {"threatLookupsPerDay", optional_int(p.threat_lookups_per_day)},
            {"apiCallsPerDay", optional_int(p.api_calls_per_day)},
            {"sessions", optional_int(p.sessions)}}}};
}

json::object status_json(const BillingStatus& s) {
  return {{"tier", s.tier},
          {"planExpiresAt", common::rfc3339_or_null(s.plan_expires_at)},
          {"subscription", s.subscription ? json::value(subscription_json(*s.subscription)) : json::value(nullptr)}};
}

BillingEvent parse_event(const json::object& body) {
  namespace in = common::input;
  BillingEvent e;
  e.id = in::text(body, "id", {.min = 1, .max = 128});
  e.type = in::text(body, "type", {.min = 1, .max = 64});
  auto data = in::optional_object(body, "data").value_or(json::object{});
  e.subscription_id = in::optional_text(data, "subscriptionId", {.min = 1, .max = 128});
  e.user_id = in::optional_text(data, "userId", {.min = 1, .max = 64});
  e.tier = in::optional_one_of(data, "tier", {"solo", "pro", "business", "enterprise"});
  e.status = in::optional_one_of(data, "status", {"active", "past_due", "cancelled", "expired", "paused"});
  e.current_period_end = in::optional_timestamp(data, "currentPeriodEnd");
  e.cancel_at_period_end = in::optional_boolean(data, "cancelAtPeriodEnd");
  return e;
}

}  // namespace

json::object subscription_json(const Subscription& s) {
  return {{"id", s.id},
          {"tier", s.tier},
          {"status", s.status},
          {"currentPeriodEnd", common::rfc3339_or_null(s.current_period_end)},
          {"cancelAtPeriodEnd", s.cancel_at_period_end},
          {"createdAt", common::rfc3339_from_unix(s.created_at)},
          {"updatedAt", common::rfc3339_from_unix(s.updated_at)}};
}

namespace {

common::Response list_plans(common::Request&) {
  json::array list;
  for (const auto& p : plans()) list.push_back(plan_json(p));
  return common::envelope_ok(json::object{{"plans", std::move(list)}});
}

common::Response show_status(Billing& b, common::Request& req) {
  return common::envelope_ok(status_json(b.status(principal_of(req))));
}

common::Response checkout(Billing& b, common::Request& req) {
  auto body = req.json_object();
  auto tier = common::input::one_of(body, "tier", {"solo", "pro", "business"});
  return common::envelope_ok(json::object{{"url", b.checkout(principal_of(req), tier, client_of(req))}});
}

common::Response cancel(Billing& b, common::Request& req) {
  return common::envelope_ok(status_json(b.cancel(principal_of(req), client_of(req))));
}

common::Response webhook(Billing& b, common::Request& req) {
  auto event = parse_event(req.json_object());
  auto outcome = b.apply(event);
  json::object data{{"eventId", event.id}, {"duplicate", outcome.duplicate}, {"applied", outcome.applied}};
  if (!outcome.note.empty()) data["note"] = outcome.note;
  return common::envelope_ok(std::move(data));
}

}  // namespace

void add_billing_webhook_scheme(common::Service& service, Billing& billing) {
  service.auth_scheme("billing_webhook", [&billing](common::Request& req) {
    auto signature = req.headers.get("X-Signature");
    billing.verify_signature(req.body, signature);
  });
}

// In the order of the API reference.
std::vector<common::Route> billing_routes(Billing& b) {
  return {
      {.method = "GET", .path = "/api/billing/plans", .handler = list_plans},
      {.method = "GET",
       .path = "/api/billing/status",
       .auth = "user",
       .handler = [&b](common::Request& r) { return show_status(b, r); }},
      {.method = "POST",
       .path = "/api/billing/checkout",
       .auth = "user",
       .fields = {"tier"},
       .handler = [&b](common::Request& r) { return checkout(b, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/billing/cancel",
       .auth = "user",
       .handler = [&b](common::Request& r) { return cancel(b, r); },
       .offload = true},
      {.method = "POST",
       .path = "/api/billing/webhook",
       .auth = "billing_webhook",
       .limit = "webhook",
       .fields = {"*"},
       .handler = [&b](common::Request& r) { return webhook(b, r); },
       .body_limit = 64 * 1024},

  };
}

}  // namespace auth
