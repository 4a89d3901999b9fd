#include "billing.hpp"

#include <cctype>

#include <boost/json.hpp>

#include "audit.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/http_client.hpp"
#include "plans.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "store/time.hpp"
#include "users.hpp"

namespace auth {

namespace {

namespace json = boost::json;

constexpr std::string_view kOfUser =
    "SELECT id, user_id, tier, status, current_period_end, cancel_at_period_end, created_at, updated_at "
    "FROM subscriptions WHERE user_id = ? ORDER BY updated_at DESC, rowid DESC";
constexpr std::string_view kById =
    "SELECT id, user_id, tier, status, current_period_end, cancel_at_period_end, created_at, updated_at "
    "FROM subscriptions WHERE id = ?";
constexpr std::string_view kUpsert =
    "INSERT INTO subscriptions (id, user_id, tier, status, current_period_end, cancel_at_period_end, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (id) DO UPDATE SET tier = ?3, status = ?4, "
    "current_period_end = ?5, cancel_at_period_end = ?6, updated_at = ?7";
constexpr std::string_view kEventSeen = "SELECT COUNT(*) FROM billing_events WHERE id = ?";
constexpr std::string_view kRecordEvent =
    "INSERT INTO billing_events (id, type, subscription_id, user_id, applied, received_at) VALUES (?, ?, ?, ?, ?, ?)";
constexpr std::string_view kLapsed =
    "SELECT id FROM subscriptions WHERE (status = 'cancelled' OR (cancel_at_period_end = 1 AND status IN "
    "('active', 'past_due'))) AND COALESCE(current_period_end, 0) <= ?";
constexpr std::string_view kSetTier = "UPDATE users SET tier = ?, updated_at = ? WHERE id = ?";

// Audit actor of changes the provider made.
constexpr std::string_view kProviderActor = "billing-provider";

Subscription from_row(const store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.int64_or_null(4), q.int64(5) != 0, q.int64(6), q.int64(7)};
}

std::optional<Subscription> by_id(store::Connection& c, std::string_view id) {
  auto q = c.prepare(kById);
  q->bind_all(id);
  if (!q->step()) return std::nullopt;
  return from_row(*q);
}

void save(store::Connection& c, const Subscription& s) {
  c.execute(kUpsert, s.id, s.user_id, s.tier, s.status, s.current_period_end, s.cancel_at_period_end,
            store::unix_now());
}

std::size_t rank(std::string_view tier) {
  auto all = plans();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].tier == tier) return i;
  return 0;
}

// The subscription giving the account its tier now (the highest tier among those granting).
std::optional<Subscription> granting(const std::vector<Subscription>& subs, std::int64_t now) {
  std::optional<Subscription> best;
  for (const auto& s : subs)
    if (s.grants_tier(now) && (!best || rank(s.tier) > rank(best->tier))) best = s;
  return best;
}

// Sets the account's tier to what its subscriptions grant (community when none does) and
// records a change in the audit trail.
void settle_tier(store::Connection& c, std::string_view user_id, const json::object& cause) {
  auto user = users::by_id(c, user_id);
  if (!user) return;
  auto now = store::unix_now();
  auto grant = granting(billing::of_user(c, user_id), now);
  std::string tier = grant ? grant->tier : "community";
  if (tier == user->tier) return;
  c.execute(kSetTier, tier, now, user_id);
  json::object detail = cause;
  detail["from"] = user->tier;
  detail["to"] = tier;
  audit::record(c, audit::kBillingTierChanged, user_id, "", detail, kProviderActor);
}

[[noreturn]] void provider_failed(const common::OutboundResponse& r) {
  // libcurl says "Timeout was reached" (CURLE_OPERATION_TIMEDOUT).
  if (r.status == 0 && (r.error.find("Timeout") != std::string::npos || r.error.find("timed out") != std::string::npos))
    throw common::ApiError(504, "the billing provider did not answer in time", common::codes::kGatewayTimeout);
  if (r.status == 0) throw common::ApiError(502, "the billing provider is unreachable: " + r.error);
  throw common::ApiError(502, "the billing provider answered HTTP " + std::to_string(r.status));
}

// POSTs a JSON body to the provider; the answer's JSON object, or 502/504.
json::object call_provider(const BillingSettings& settings, const std::string& url, const json::object& body,
                           const std::string& idempotency_key) {
  common::OutboundRequest request{.method = "POST",
                                  .url = url,
                                  .headers = {{"Content-Type", "application/json"},
                                              {"Accept", "application/json"},
                                              {"Idempotency-Key", idempotency_key}},
                                  .body = json::serialize(body),
                                  .timeout = settings.timeout};
  if (!settings.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
  auto response = common::send(request);
  if (!response.ok()) provider_failed(response);
  boost::system::error_code ec;
  auto parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object()) throw common::ApiError(502, "the billing provider answered something other than JSON");
  return std::move(parsed.as_object());
}

bool is_http_url(std::string_view url) {
  return (url.starts_with("https://") || url.starts_with("http://")) && url.size() <= 2048 &&
         url.find_first_of(" \t\r\n\"<>") == std::string_view::npos;
}

std::optional<Subscription> running(const std::vector<Subscription>& subs, std::int64_t now) {
  for (const auto& s : subs)
    if (s.grants_tier(now) && (s.status == "active" || s.status == "past_due") && !s.cancel_at_period_end) return s;
  return std::nullopt;
}

}  // namespace

bool Subscription::grants_tier(std::int64_t now) const {
  if (status != "active" && status != "past_due" && status != "cancelled") return false;
  bool lapsing = status == "cancelled" || cancel_at_period_end;
  return !lapsing || (current_period_end && *current_period_end > now);
}

std::vector<Subscription> billing::of_user(store::Connection& db, std::string_view user_id) {
  auto q = db.prepare(kOfUser);
  q->bind_all(user_id);
  std::vector<Subscription> out;
  while (q->step()) out.push_back(from_row(*q));
  return out;
}

Billing::Billing(store::Database& db, BillingSettings settings) : db_(db), settings_(std::move(settings)) {}

BillingStatus Billing::status(const Principal& caller) {
  return db_.read([&](store::Connection& c) {
    auto user = users::by_id(c, caller.user_id);
    if (!user) throw common::ApiError::unauthorized("account no longer exists");
    auto subs = billing::of_user(c, caller.user_id);
    BillingStatus s{user->tier, std::nullopt, std::nullopt};
    if (auto grant = granting(subs, store::unix_now()); grant && grant->tier == user->tier)
      s.plan_expires_at = grant->current_period_end;
    if (!subs.empty()) s.subscription = subs.front();
    return s;
  });
}

std::string Billing::checkout(const Principal& caller, const std::string& tier, const identity::Client& client) {
  if (settings_.checkout_url.empty()) throw common::ApiError::not_implemented("BILLING_CHECKOUT_URL");
  auto user = db_.read([&](store::Connection& c) {
    auto u = users::by_id(c, caller.user_id);
    if (!u) throw common::ApiError::unauthorized("account no longer exists");
    auto run = running(billing::of_user(c, caller.user_id), store::unix_now());
    if (run && run->tier == tier) throw common::ApiError::conflict("the " + tier + " plan is already active");
    return *u;
  });
  std::string reference = security::random_id("chk_", 24);
  auto answer = call_provider(settings_, settings_.checkout_url,
                              {{"reference", reference},
                               {"tier", tier},
                               {"userId", user.id},
                               {"email", user.email},
                               {"successUrl", settings_.return_url + "?checkout=success"},
                               {"cancelUrl", settings_.return_url + "?checkout=cancelled"}},
                              reference);
  auto* url = answer.if_contains("url");
  if (!url || !url->is_string() || !is_http_url(url->as_string()))
    throw common::ApiError(502, "the billing provider's answer has no checkout url");
  db_.write([&](store::Connection& c) {
    audit::record(c, audit::kBillingCheckoutStarted, user.id, client.ip, {{"tier", tier}, {"reference", reference}});
  });
  return std::string(url->as_string());
}

BillingStatus Billing::cancel(const Principal& caller, const identity::Client& client) {
  if (settings_.cancel_url.empty()) throw common::ApiError::not_implemented("AUTH_BILLING_CANCEL_URL");
  auto sub =
      db_.read([&](store::Connection& c) { return running(billing::of_user(c, caller.user_id), store::unix_now()); });
  if (!sub) throw common::ApiError::conflict("no running subscription to cancel");
  call_provider(settings_, settings_.cancel_url,
                {{"subscriptionId", sub->id}, {"userId", sub->user_id}, {"cancelAtPeriodEnd", true}},
                "cancel-" + sub->id);
  db_.write([&](store::Connection& c) {
    auto current = by_id(c, sub->id);
    if (!current) return;
    current->cancel_at_period_end = true;
    save(c, *current);
    json::object detail{{"subscriptionId", sub->id}};
    if (current->current_period_end) detail["endsAt"] = common::rfc3339_from_unix(*current->current_period_end);
    audit::record(c, audit::kBillingCancelRequested, caller.user_id, client.ip, detail);
  });
  return status(caller);
}

void Billing::verify_signature(std::string_view body, std::optional<std::string_view> signature) const {
  if (settings_.webhook_secret.empty()) throw common::ApiError::not_implemented("BILLING_WEBHOOK_SECRET");
  if (!signature) throw common::ApiError(401, "X-Signature header is required", "invalid_signature");
  std::string expected = security::hmac_sha256_hex(settings_.webhook_secret, body);
  std::string given(*signature);
  for (auto& ch : given) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!security::constant_time_equal(expected, given))
    throw common::ApiError(401, "X-Signature does not match the body", "invalid_signature");
}

EventOutcome Billing::apply(const BillingEvent& e) {
  return db_.write([&](store::Connection& c) {
    EventOutcome out;
    if (c.query_int(kEventSeen, e.id).value_or(0) > 0) {
      out.duplicate = true;
      out.note = "event already received";
      return out;
    }
    std::optional<Subscription> sub;
    if (e.subscription_id) sub = by_id(c, *e.subscription_id);
    bool creates = e.type == "subscription.created" || e.type == "subscription.updated";
    if (!sub && creates && e.subscription_id && e.user_id && e.tier) {
      if (users::by_id(c, *e.user_id)) {
        sub = Subscription{*e.subscription_id, *e.user_id, *e.tier, "active", std::nullopt, false, 0, 0};
      } else {
        out.note = "unknown account";
      }
    }
    if (sub) {
      if (e.tier) sub->tier = *e.tier;
      if (e.status) sub->status = *e.status;
      if (e.current_period_end) sub->current_period_end = *e.current_period_end;
      if (e.cancel_at_period_end) sub->cancel_at_period_end = *e.cancel_at_period_end;
      if (e.type == "subscription.cancelled") {
        sub->status = "cancelled";
        sub->cancel_at_period_end = true;
      } else if (e.type == "subscription.expired") {
        sub->status = "expired";
      } else if (e.type == "subscription.paused") {
        sub->status = "paused";
      } else if (e.type == "payment.succeeded") {
        sub->status = "active";
      } else if (e.type == "payment.failed") {
        sub->status = "past_due";
      } else if (!creates) {
        sub.reset();
        out.note = "event type not handled";
      }
    } else if (out.note.empty()) {
      out.note = e.subscription_id ? "unknown subscription" : "no subscription in the event";
    }
    if (sub) {
      save(c, *sub);
      settle_tier(c, sub->user_id, {{"eventId", e.id}, {"eventType", e.type}, {"subscriptionId", sub->id}});
      out.applied = true;
    }
    std::optional<std::string> user_id = sub ? std::optional<std::string>(sub->user_id) : std::nullopt;
    c.execute(kRecordEvent, e.id, e.type, e.subscription_id, user_id, out.applied, store::unix_now());
    return out;
  });
}

int Billing::expire_lapsed() {
  auto lapsed = [](store::Connection& c) {
    std::vector<std::string> ids;
    auto q = c.prepare(kLapsed);
    q->bind_all(store::unix_now());
    while (q->step()) ids.push_back(q->text(0));
    return ids;
  };
  if (db_.read(lapsed).empty()) return 0;  // the usual case: no write transaction at all
  return db_.write([&](store::Connection& c) {
    auto ids = lapsed(c);  // again, inside the write: an event may have renewed one meanwhile
    for (const auto& id : ids) {
      auto sub = by_id(c, id);
      sub->status = "expired";
      save(c, *sub);
      settle_tier(c, sub->user_id, {{"subscriptionId", id}, {"reason", "period ended after cancellation"}});
    }
    return static_cast<int>(ids.size());
  });
}

}  // namespace auth
