// /api/usage routes: the caller's meters, and reports from other Panguard services.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace auth {

namespace {

namespace json = boost::json;

json::object meter_json(const Meter& m) {
  json::object o{
      {"name", m.name},
      {"period", m.period},
      {"used", m.used},
      {"limit", m.limit ? json::value(*m.limit) : json::value(nullptr)},
      {"remaining", m.limit ? json::value(std::max<std::int64_t>(*m.limit - m.used, 0)) : json::value(nullptr)},
      {"overQuota", m.limit && m.used > *m.limit}};
  if (m.resets_at) o["resetsAt"] = common::rfc3339_from_unix(*m.resets_at);
  return o;
}

common::Response show_usage(Usage& u, common::Request& req) {
  auto s = u.summary(principal_of(req));
  json::array meters;
  for (const auto& m : s.meters) meters.push_back(meter_json(m));
  return common::envelope_ok(json::object{{"tier", s.tier}, {"meters", std::move(meters)}});
}

common::Response report_usage(Usage& u, common::Request& req) {
  namespace in = common::input;
  auto body = req.json_object();
  UsageReport r{in::text(body, "userId", {.min = 1, .max = 64}),
                in::one_of(body, "meter", {"endpoints", "threatLookups", "apiCalls"}),
                in::optional_integer(body, "increment", 1, 1'000'000),
                in::optional_integer(body, "value", 0, 1'000'000)};
  if (r.increment && r.value) throw common::ApiError::validation("give either 'increment' or 'value'");
  return common::envelope_ok(json::object{{"meter", meter_json(u.record(r))}});
}

}  // namespace

void add_usage_service_scheme(common::Service& service, Usage& usage) {
  service.auth_scheme("usage_service",
                      [&usage](common::Request& req) { usage.check_service_token(req.bearer_token()); });
}

// In the order of the API reference.
std::vector<common::Route> usage_routes(Usage& u) {
  return {
      {.method = "GET",
       .path = "/api/usage",
       .auth = "user",
       .handler = [&u](common::Request& r) { return show_usage(u, r); }},
      {.method = "POST",
       .path = "/api/usage/report",
       .auth = "usage_service",
       .limit = "none",
       .fields = {"increment", "meter", "userId", "value"},
       .handler = [&u](common::Request& r) { return report_usage(u, r); }},
  };
}

}  // namespace auth
