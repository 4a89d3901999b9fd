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

}  // namespace

void add_usage_routes(common::Service& service, Usage& usage) {
  Usage* u = &usage;
  service.auth_scheme("usage_service", [u](common::Request& req) { u->check_service_token(req.bearer_token()); });
  service.add({
      {.method = "GET",
       .path = "/api/usage",
       .auth = "user",
       .handler =
           [u](common::Request& req) {
             auto s = u->summary(principal_of(req));
             json::array meters;
             for (const auto& m : s.meters) meters.push_back(meter_json(m));
             return common::envelope_ok(json::object{{"tier", s.tier}, {"meters", std::move(meters)}});
           }},
      {.method = "POST",
       .path = "/api/usage/report",
       .auth = "usage_service",
       .limit = "none",
       .fields = {"increment", "meter", "userId", "value"},
       .handler =
           [u](common::Request& req) {
             namespace in = common::input;
             auto body = req.json_object();
             UsageReport r{in::text(body, "userId", {.min = 1, .max = 64}),
                           in::one_of(body, "meter", {"endpoints", "threatLookups", "apiCalls"}),
                           in::optional_integer(body, "increment", 1, 1'000'000),
                           in::optional_integer(body, "value", 0, 1'000'000)};
             if (r.increment && r.value) throw common::ApiError::validation("give either 'increment' or 'value'");
             return common::envelope_ok(json::object{{"meter", meter_json(u->record(r))}});
           }},
  });
}

}  // namespace auth
