#include "plans.hpp"

namespace auth {

namespace {

constexpr Plan kPlans[] = {
    {"community", "Community", 0, false, 3, 1'000, 10'000, 5},
    {"solo", "Solo", 900, true, 10, 10'000, 100'000, 10},
    {"pro", "Pro", 2'900, true, 50, 100'000, 1'000'000, 25},
    {"business", "Business", 9'900, true, 500, 1'000'000, 10'000'000, 100},
    {"enterprise", "Enterprise", std::nullopt, false, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
};

}  // namespace

std::span<const Plan> plans() { return kPlans; }

const Plan& plan_of(std::string_view tier) {
  for (const auto& p : kPlans)
    if (p.tier == tier) return p;
  return kPlans[0];
}

}  // namespace auth
