// The text rule: names refuse bidi overrides and other invisible formatting characters.
#include <catch2/catch.hpp>

#include <string>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "common/input.hpp"

namespace {

namespace input = common::input;

std::string rejection_of(const std::string& value, input::Text rule = {}) {
  boost::json::object body{{"name", value}};
  try {
    input::text(body, "name", rule);
  } catch (const common::ApiError& e) {
    CHECK(e.status() == 400);
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("input: single-line names refuse bidi embeddings, overrides and isolates", "[common][input]") {
  // "Alice\u202Eevil": the right-to-left override shows the rest mirrored.
  CHECK_THAT(rejection_of("Alice\xE2\x80\xAE"
                          "evil"),
             Catch::Contains("'name'") && Catch::Contains("U+202E"));
  for (const char* cp : {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD",     // U+202A-202D
                         "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",     // U+2066-2069
                         "\xE2\x80\x8B", "\xEF\xBB\xBF", "\xE2\x81\xA0", "\xE2\x80\xA8"}) {  // ZWSP BOM WJ LS
    INFO(cp);
    CHECK_THAT(rejection_of(std::string("a") + cp + "b"), Catch::Contains("formatting characters"));
  }
  // C1 controls are control characters.
  CHECK_THAT(rejection_of("a\xC2\x85"
                          "b"),
             Catch::Contains("control characters"));
}

TEST_CASE("input: ordinary international names pass", "[common][input]") {
  for (const char* name : {"Zoë Ångström", "محمد", "שלום", "李小龍", "\xD9\x85\xE2\x80\x8C\xD9\x86",  // ZWNJ in Persian
                           "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"}) {  // emoji ZWJ sequence
    INFO(name);
    CHECK(rejection_of(name).empty());
  }
}

TEST_CASE("input: free text keeps line breaks, tabs and bidi marks", "[common][input]") {
  input::Text free{.min = 1, .max = 1000, .single_line = false};
  CHECK(rejection_of("line one\nline two\t\xE2\x80\xAE", free).empty());
}

TEST_CASE("input: malformed UTF-8 is refused, overlong forms and surrogates included", "[common][input]") {
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x80", "\x80"}) {
    INFO(bad);
    CHECK_THAT(rejection_of(std::string("x") + bad), Catch::Contains("valid UTF-8"));
  }
}
