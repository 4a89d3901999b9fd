#include "workload/rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

#include "text.hpp"

namespace workload {

namespace {

struct Rule {
  std::string name;
  std::string argument;             // everything after the first ':'
  std::vector<std::string> params;  // argument split on ','
};

Rule parse_rule(std::string_view text) {
  Rule rule;
  auto colon = text.find(':');
  rule.name = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) {
    rule.argument = std::string(text.substr(colon + 1));
    rule.params = split(rule.argument, ',');
  }
  return rule;
}

std::optional<double> as_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

bool is_integer(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_chars(std::string_view text, bool (*ok)(char)) { return std::all_of(text.begin(), text.end(), ok); }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool alnum(char c) { return alpha(c) || (c >= '0' && c <= '9'); }
bool alnum_dash(char c) { return alnum(c) || c == '-' || c == '_'; }

// PHP patterns are `/body/flags` with any non-alphanumeric delimiter; std::regex (ECMAScript)
// understands the body of the patterns eggs use. Flags: i (case), u (no-op here).
std::optional<std::regex> compile_php_regex(std::string_view pattern, std::string* problem) {
  if (pattern.size() < 2 || alnum(pattern.front()) || pattern.front() == '\\') {
    *problem = "regex must be written /pattern/";
    return std::nullopt;
  }
  char close = pattern.front() == '('   ? ')'
               : pattern.front() == '{' ? '}'
               : pattern.front() == '[' ? ']'
                                        : pattern.front();
  auto end = pattern.rfind(close);
  if (end == 0 || end == std::string_view::npos) {
    *problem = "regex has no closing delimiter";
    return std::nullopt;
  }
  auto flags = std::regex::ECMAScript;
  for (char f : pattern.substr(end + 1)) {
    if (f == 'i')
      flags |= std::regex::icase;
    else if (f != 'u' && f != 'D') {
      *problem = std::string("regex flag '") + f + "' is not supported";
      return std::nullopt;
    }
  }
  try {
    return std::regex(std::string(pattern.substr(1, end - 1)), flags);
  } catch (const std::regex_error& e) {
    *problem = std::string("regex does not compile: ") + e.what();
    return std::nullopt;
  }
}

// The size a min/max/between rule compares: the number for numeric fields, else the length.
double size_of(std::string_view value, bool numeric) {
  if (numeric) {
    if (auto n = as_number(value)) return *n;
  }
  return static_cast<double>(utf8_length(value));
}

std::string size_words(bool numeric) { return numeric ? "" : " characters"; }

}  // namespace

std::vector<std::string> split_rules(std::string_view rules) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= rules.size()) {
    std::size_t next = rules.find('|', pos);
    std::string_view rest = rules.substr(pos);
    if ((rest.starts_with("regex:") || rest.starts_with("not_regex:"))) {
      auto colon = rest.find(':');
      if (colon + 1 < rest.size()) {
        char delim = rest[colon + 1];
        auto close = rest.find(delim, colon + 2);
        // Skip escaped delimiters inside the body.
        while (close != std::string_view::npos && rest[close - 1] == '\\') close = rest.find(delim, close + 1);
        if (close != std::string_view::npos) next = rules.find('|', pos + close);
      }
    }
    std::string_view item = rules.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (!item.empty()) out.emplace_back(item);
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

std::optional<std::string> rule_problem(std::string_view text) {
  static const std::vector<std::string> kNoParams = {"required", "nullable", "sometimes", "string",    "integer",
                                                     "numeric",  "boolean",  "alpha",     "alpha_num", "alpha_dash"};
  Rule rule = parse_rule(text);
  if (std::find(kNoParams.begin(), kNoParams.end(), rule.name) != kNoParams.end()) return std::nullopt;
  auto numbers = [&](std::size_t count) -> std::optional<std::string> {
    if (rule.params.size() != count || !std::all_of(rule.params.begin(), rule.params.end(),
                                                    [](const std::string& p) { return as_number(p).has_value(); }))
      return "rule '" + std::string(text) + "' needs " + std::to_string(count) + " number(s)";
    return std::nullopt;
  };
  if (rule.name == "min" || rule.name == "max" || rule.name == "size" || rule.name == "digits") return numbers(1);
  if (rule.name == "between" || rule.name == "digits_between") return numbers(2);
  if (rule.name == "in" || rule.name == "not_in") {
    if (rule.argument.empty()) return "rule '" + std::string(text) + "' needs a list of values";
    return std::nullopt;
  }
  if (rule.name == "regex" || rule.name == "not_regex") {
    std::string problem;
    if (!compile_php_regex(rule.argument, &problem)) return problem;
    return std::nullopt;
  }
  return "unknown rule '" + rule.name + "'";
}

namespace {

// One rule against a non-empty value; the message when it fails.
std::optional<std::string> check_rule(const Rule& rule, std::string_view value, bool numeric) {
  const auto& p = rule.params;
  if (rule.name == "integer" && !is_integer(value)) return "must be an integer";
  if (rule.name == "numeric" && !as_number(value)) return "must be a number";
  if (rule.name == "boolean" && value != "0" && value != "1" && value != "true" && value != "false")
    return "must be a boolean (0, 1, true or false)";
  if (rule.name == "alpha" && !all_chars(value, alpha)) return "must contain only letters";
  if (rule.name == "alpha_num" && !all_chars(value, alnum)) return "must contain only letters and digits";
  if (rule.name == "alpha_dash" && !all_chars(value, alnum_dash))
    return "must contain only letters, digits, dashes and underscores";
  double size = size_of(value, numeric);
  if (rule.name == "min" && size < *as_number(p[0])) return "must be at least " + p[0] + size_words(numeric);
  if (rule.name == "max" && size > *as_number(p[0])) return "must be at most " + p[0] + size_words(numeric);
  if (rule.name == "size" && size != *as_number(p[0])) return "must be exactly " + p[0] + size_words(numeric);
  if (rule.name == "between" && (size < *as_number(p[0]) || size > *as_number(p[1])))
    return "must be between " + p[0] + " and " + p[1] + size_words(numeric);
  bool digits = is_integer(value) && value.front() != '-' && value.front() != '+';
  if (rule.name == "digits" && (!digits || value.size() != static_cast<std::size_t>(*as_number(p[0]))))
    return "must be " + p[0] + " digits";
  if (rule.name == "digits_between" && (!digits || value.size() < *as_number(p[0]) || value.size() > *as_number(p[1])))
    return "must be between " + p[0] + " and " + p[1] + " digits";
  if (rule.name == "in" && std::find(p.begin(), p.end(), value) == p.end()) return "must be one of " + rule.argument;
  if (rule.name == "not_in" && std::find(p.begin(), p.end(), value) != p.end())
    return "must not be one of " + rule.argument;
  if (rule.name == "regex" || rule.name == "not_regex") {
    std::string problem;
    auto re = compile_php_regex(rule.argument, &problem);
    if (!re) return problem;
    bool found = std::regex_search(value.begin(), value.end(), *re);
    if (rule.name == "regex" && !found) return "must match " + rule.argument;
    if (rule.name == "not_regex" && found) return "must not match " + rule.argument;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_value(const std::vector<std::string>& rules, std::string_view value) {
  std::vector<Rule> parsed;
  for (const auto& r : rules) parsed.push_back(parse_rule(r));
  auto has = [&](std::string_view name) {
    return std::any_of(parsed.begin(), parsed.end(), [&](const Rule& r) { return r.name == name; });
  };
  if (value.empty()) {
    if (has("required")) return "is required";
    return std::nullopt;  // nullable, or simply optional: the other rules apply to values only
  }
  for (const auto& r : rules) {
    if (auto problem = rule_problem(r)) return problem;
  }
  bool numeric = has("integer") || has("numeric");
  for (const auto& rule : parsed) {
    if (auto failure = check_rule(rule, value, numeric)) return failure;
  }
  return std::nullopt;
}

}  // namespace workload
