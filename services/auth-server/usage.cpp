#include "usage.hpp"

#include <chrono>
#include <cstdio>

#include "common/error.hpp"
#include "plans.hpp"
#include "security/digest.hpp"
#include "store/time.hpp"
#include "users.hpp"

namespace auth {

namespace {

constexpr std::string_view kCounter = "SELECT value FROM usage_counters WHERE user_id = ? AND meter = ? AND period = ?";
constexpr std::string_view kAdd =
    "INSERT INTO usage_counters (user_id, meter, period, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (user_id, meter, period) DO UPDATE SET value = MIN(value + ?4, 9000000000000000000), "
    "updated_at = ?5";
constexpr std::string_view kSet =
    "INSERT INTO usage_counters (user_id, meter, period, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (user_id, meter, period) DO UPDATE SET value = ?4, updated_at = ?5";
constexpr std::string_view kLiveSessions =
    "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?";
constexpr std::string_view kAllCounters =
    "SELECT meter, period, value, updated_at FROM usage_counters WHERE user_id = ? ORDER BY period, meter";
constexpr std::string_view kPurge = "DELETE FROM usage_counters WHERE period != '' AND period < ?";
constexpr std::string_view kUserTier = "SELECT tier FROM users WHERE id = ?";

constexpr std::int64_t kDay = 86400;

// "YYYY-MM-DD" of the UTC day containing unix second t.
std::string utc_day(std::int64_t t) {
  std::chrono::year_month_day d{std::chrono::sys_days{std::chrono::days{t / kDay}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

bool is_daily(std::string_view meter) { return meter == "threatLookups" || meter == "apiCalls"; }

std::optional<std::int64_t> quota(const Plan& plan, std::string_view meter) {
  if (meter == "endpoints") return plan.endpoints;
  if (meter == "threatLookups") return plan.threat_lookups_per_day;
  if (meter == "apiCalls") return plan.api_calls_per_day;
  return plan.sessions;
}

// One meter of the account as of `now` (the caller checked that the account exists).
Meter read_meter(store::Connection& c, std::string_view user_id, std::string_view tier, std::string_view name,
                 std::int64_t now) {
  Meter m{std::string(name), is_daily(name) ? "day" : "current", 0, quota(plan_of(tier), name), std::nullopt};
  if (name == "sessions") {
    m.used = c.query_int(kLiveSessions, user_id, now).value_or(0);
  } else {
    m.used = c.query_int(kCounter, user_id, name, is_daily(name) ? utc_day(now) : std::string()).value_or(0);
  }
  if (is_daily(name)) m.resets_at = (now / kDay + 1) * kDay;
  return m;
}

}  // namespace

std::vector<UsageCounter> usage::counters_of(store::Connection& db, std::string_view user_id) {
  auto q = db.prepare(kAllCounters);
  q->bind_all(user_id);
  std::vector<UsageCounter> out;
  while (q->step()) out.push_back({q->text(0), q->text(1), q->int64(2), q->int64(3)});
  return out;
}

Usage::Usage(store::Database& db, std::string service_token) : db_(db), service_token_(std::move(service_token)) {}

UsageSummary Usage::summary(const Principal& caller) {
  return db_.read([&](store::Connection& c) {
    auto tier = c.query_text(kUserTier, caller.user_id);
    if (!tier) throw common::ApiError::unauthorized("account no longer exists");
    UsageSummary s{*tier, {}};
    auto now = store::unix_now();
    for (auto name : usage::kReported) s.meters.push_back(read_meter(c, caller.user_id, *tier, name, now));
    s.meters.push_back(read_meter(c, caller.user_id, *tier, "sessions", now));
    return s;
  });
}

void Usage::check_service_token(std::optional<std::string_view> bearer) const {
  if (service_token_.empty()) throw common::ApiError::not_implemented("AUTH_USAGE_SERVICE_TOKEN");
  if (!bearer || !security::constant_time_equal(security::sha256(*bearer), security::sha256(service_token_)))
    throw common::ApiError::unauthorized("invalid usage service token");
}

Meter Usage::record(const UsageReport& r) {
  if (is_daily(r.meter) && !r.increment)
    throw common::ApiError::validation("'increment' is required for meter " + r.meter);
  if (!is_daily(r.meter) && !r.value) throw common::ApiError::validation("'value' is required for meter " + r.meter);
  return db_.write([&](store::Connection& c) {
    auto tier = c.query_text(kUserTier, r.user_id);
    if (!tier) throw common::ApiError::not_found("no such user");
    auto now = store::unix_now();
    if (r.increment)
      c.execute(kAdd, r.user_id, r.meter, utc_day(now), *r.increment, now);
    else
      c.execute(kSet, r.user_id, r.meter, std::string(), *r.value, now);
    return read_meter(c, r.user_id, *tier, r.meter, now);
  });
}

int Usage::purge(int days) {
  auto cutoff = utc_day(store::unix_now() - std::int64_t{days} * kDay);
  return db_.write([&](store::Connection& c) { return c.execute(kPurge, cutoff); });
}

}  // namespace auth
