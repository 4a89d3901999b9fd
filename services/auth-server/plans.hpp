#pragma once
// The subscription tiers and what each one allows: the table behind /api/billing/plans, the
// tiers a checkout may buy and the quotas the usage meters are measured against.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace auth {

struct Plan {
  std::string_view tier;  // community, solo, pro, business, enterprise
  std::string_view name;
  std::optional<std::int64_t> monthly_price_cents;  // USD; nullopt = priced by agreement
  bool self_service = false;                        // can be bought through /api/billing/checkout
  // Quotas; nullopt = unlimited.
  std::optional<std::int64_t> endpoints;               // protected endpoints (enrolled agents)
  std::optional<std::int64_t> threat_lookups_per_day;  // threat-cloud IoC lookups
  std::optional<std::int64_t> api_calls_per_day;       // calls to the Panguard APIs
  std::optional<std::int64_t> sessions;                // devices signed in at once
};

// Every plan, cheapest first.
std::span<const Plan> plans();

// The plan of a tier; the community plan for an unknown name.
const Plan& plan_of(std::string_view tier);

}  // namespace auth
