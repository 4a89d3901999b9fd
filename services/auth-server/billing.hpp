#pragma once
// Subscriptions with the billing provider: plan status, checkout and cancellation through the
// provider's HTTP API, and the provider's signed webhook events, applied once per event id.
// A subscription grants its tier while active or past due, and after a cancellation until the
// end of the paid period; the account's tier follows. Failures are common::ApiError values.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/sessions.hpp"
#include "store/database.hpp"
#include "tokens.hpp"

namespace auth {

struct BillingSettings {
  std::string checkout_url;                  // BILLING_CHECKOUT_URL: the provider creates checkout sessions here
  std::string cancel_url;                    // AUTH_BILLING_CANCEL_URL: the provider cancels subscriptions here
  std::string api_key;                       // AUTH_BILLING_API_KEY: sent as a bearer token to the provider (optional)
  std::string webhook_secret;                // BILLING_WEBHOOK_SECRET: HMAC-SHA256 key of webhook signatures
  std::string return_url;                    // where the provider sends the user back (PANGUARD_BASE_URL/billing)
  std::chrono::milliseconds timeout{10000};  // AUTH_BILLING_TIMEOUT_S: a provider call, connect included
};

struct Subscription {
  std::string id;  // the provider's id
  std::string user_id;
  std::string tier;
  std::string status;  // active, past_due, cancelled, expired, paused
  std::optional<std::int64_t> current_period_end;
  bool cancel_at_period_end = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  // Whether it gives its tier at `now`.
  bool grants_tier(std::int64_t now) const;
};

struct BillingStatus {
  std::string tier;
  std::optional<std::int64_t> plan_expires_at;  // end of the paid period of the granting subscription
  std::optional<Subscription> subscription;     // the most recently changed one
};

// A provider event, as the webhook route parsed it; absent fields stay as they are.
struct BillingEvent {
  std::string id;
  std::string type;  // subscription.created|updated|cancelled|expired|paused, payment.succeeded|failed
  std::optional<std::string> subscription_id;
  std::optional<std::string> user_id;
  std::optional<std::string> tier;
  std::optional<std::string> status;
  std::optional<std::int64_t> current_period_end;
  std::optional<bool> cancel_at_period_end;
};

struct EventOutcome {
  bool duplicate = false;  // this event id was received before: nothing changed
  bool applied = false;    // the event changed a subscription
  std::string note;        // why not, when not applied
};

namespace billing {
// Rows of the account's subscriptions, newest change first (GDPR export, admin view).
std::vector<Subscription> of_user(store::Connection& db, std::string_view user_id);
}  // namespace billing

class Billing {
 public:
  Billing(store::Database& db, BillingSettings settings);

  BillingStatus status(const Principal& caller);
  // Asks the provider for a checkout page for `tier` and returns its URL: 501 without
  // BILLING_CHECKOUT_URL, 409 when that plan is already running, 502/504 when the provider
  // fails or does not answer. Blocking: call off the I/O threads.
  std::string checkout(const Principal& caller, const std::string& tier, const identity::Client& client);
  // Asks the provider to cancel the running subscription at the end of its period and records
  // that: 501 without AUTH_BILLING_CANCEL_URL, 409 when nothing is running or it already ends,
  // 502/504 when the provider fails. Blocking.
  BillingStatus cancel(const Principal& caller, const identity::Client& client);

  // 501 without BILLING_WEBHOOK_SECRET; 401 unless `signature` is hex(HMAC-SHA256(secret, body)).
  void verify_signature(std::string_view body, std::optional<std::string_view> signature) const;
  // Applies a verified event in one transaction, once per event id.
  EventOutcome apply(const BillingEvent& event);

  // Housekeeping: subscriptions whose cancellation took effect become expired and their
  // accounts lose the tier. Returns how many.
  int expire_lapsed();

 private:
  store::Database& db_;
  BillingSettings settings_;
};

}  // namespace auth
