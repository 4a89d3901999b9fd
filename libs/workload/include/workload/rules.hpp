#pragma once
// Variable rules in the Laravel notation eggs use (`required|string|max:20`, `in:a,b`,
// `regex:/^[a-z]+$/i`, `between:1,5`, ...): split, checked for being known, and applied to
// the value a user sets.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace workload {

// Splits a pipe-separated rule string. A `regex:/.../flags` rule keeps the pipes inside its
// delimiters, which a plain split on '|' would cut.
std::vector<std::string> split_rules(std::string_view rules);

// Why a rule cannot be applied (unknown name, bad parameters, a regex that does not compile);
// nullopt when it is fine.
std::optional<std::string> rule_problem(std::string_view rule);

// The first rule `value` breaks, as a message ("must be an integer", "must be at most 20
// characters"); nullopt when every rule holds. An empty value passes unless `required`.
std::optional<std::string> check_value(const std::vector<std::string>& rules, std::string_view value);

}  // namespace workload
