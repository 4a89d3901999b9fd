#include <catch2/catch.hpp>

#include "workload/rules.hpp"

using namespace workload;

namespace {
std::optional<std::string> check(const char* rules, const char* value) {
  return check_value(split_rules(rules), value);
}
}  // namespace

TEST_CASE("rule strings split on pipes except inside a regex") {
  CHECK(split_rules("required|string|max:20") == std::vector<std::string>{"required", "string", "max:20"});
  CHECK(split_rules("required|regex:/^(a|b)$/|max:5") ==
        std::vector<std::string>{"required", "regex:/^(a|b)$/", "max:5"});
  CHECK(split_rules("").empty());
}

TEST_CASE("the rules of the shipped eggs hold for good values and refuse bad ones") {
  CHECK_FALSE(check("required|string|max:20", "index.js"));
  CHECK(check("required|string|max:20", "a-very-long-file-name.js") == "must be at most 20 characters");
  CHECK(check("required|string|max:20", "") == "is required");
  CHECK_FALSE(check("nullable|string", ""));
  CHECK_FALSE(check("required|boolean", "1"));
  CHECK_FALSE(check("required|boolean", "false"));
  CHECK(check("required|boolean", "yes") == "must be a boolean (0, 1, true or false)");
  CHECK_FALSE(check("required|numeric|digits_between:1,5", "100"));
  CHECK(check("required|numeric|digits_between:1,5", "123456") == "must be between 1 and 5 digits");
  CHECK(check("required|numeric|digits_between:1,5", "ten") == "must be a number");
  CHECK_FALSE(check("required|regex:/^([\\w\\d._-]+)(\\.jar)$/", "server.jar"));
  CHECK(check("required|regex:/^([\\w\\d._-]+)(\\.jar)$/", "server.zip") == "must match /^([\\w\\d._-]+)(\\.jar)$/");
  CHECK_FALSE(check("required|string|between:3,15", "latest"));
  CHECK(check("required|string|between:3,15", "1") == "must be between 3 and 15 characters");
}

TEST_CASE("size rules compare numbers for numeric fields, lengths otherwise") {
  CHECK_FALSE(check("integer|max:100", "99"));
  CHECK(check("integer|max:100", "101") == "must be at most 100");
  CHECK(check("integer|min:10", "9") == "must be at least 10");
  CHECK(check("integer", "1.5") == "must be an integer");
  CHECK(check("string|max:3", "1000") == "must be at most 3 characters");
  CHECK_FALSE(check("string|max:3", "äöü"));  // characters, not bytes
  CHECK(check("in:survival,creative", "hardcore") == "must be one of survival,creative");
  CHECK_FALSE(check("in:survival,creative", "creative"));
  CHECK(check("not_in:admin,root", "root") == "must not be one of admin,root");
  CHECK(check("alpha_dash", "a b") == "must contain only letters, digits, dashes and underscores");
  CHECK_FALSE(check("regex:/^[a-z]+$/i", "ABC"));
  CHECK(check("not_regex:/^admin/", "administrator") == "must not match /^admin/");
}

TEST_CASE("unknown or malformed rules are named") {
  CHECK(rule_problem("colour") == "unknown rule 'colour'");
  CHECK(rule_problem("max:many") == "rule 'max:many' needs 1 number(s)");
  CHECK(rule_problem("between:1") == "rule 'between:1' needs 2 number(s)");
  CHECK(rule_problem("regex:abc") == "regex must be written /pattern/");
  CHECK(rule_problem("regex:^abc$") == "regex has no closing delimiter");
  CHECK(rule_problem("regex:/(/")->starts_with("regex does not compile"));
  CHECK_FALSE(rule_problem("required"));
  CHECK_FALSE(rule_problem("digits_between:1,5"));
}
