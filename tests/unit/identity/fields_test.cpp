// The shared field rules: the e-mail address rule (where the services' former checks disagreed,
// the stricter answer holds) and the stored User-Agent.
#include <catch2/catch.hpp>
#include <string>

#include "identity/fields.hpp"
#include "identity/request_origin.hpp"

TEST_CASE("e-mail addresses in dot-atom form are accepted", "[identity][fields]") {
  for (const char* ok : {"a@x.io", "first.last@example.com", "user+tag@sub.example.co.uk", "o'neil@x.org",
                         "A.B@EXAMPLE.COM", "x@a-b.example", "1@2.x9"})
    CHECK(identity::valid_email(ok));
  CHECK(identity::valid_email(std::string(64, 'l') + "@x.io"));
  CHECK(identity::valid_email("a@" + std::string(63, 'd') + ".io"));
}

TEST_CASE("e-mail addresses outside the rule are refused", "[identity][fields]") {
  for (const char* bad : {"", "a", "@x.io", "a@", "a@x", "a@@x.io", "a@b@x.io", "a b@x.io", "a@x .io", "a,b@x.io",
                          "a;b@x.io", "a@.x.io", "a@x.io.", "a@x..io",
                          // accepted by one of the former checks:
                          "\xc3\xbc@x.de", "a@-x.io", "a@x-.io", "a@x.123", ".a@x.io", "a.@x.io", "a..b@x.io",
                          "a@x_y.io", "\"q\"@x.io", "a@[127.0.0.1]"})
    CHECK_FALSE(identity::valid_email(bad));
  CHECK_FALSE(identity::valid_email(std::string(65, 'l') + "@x.io"));
  CHECK_FALSE(identity::valid_email("a@" + std::string(64, 'd') + ".io"));
  CHECK_FALSE(identity::valid_email(std::string(64, 'l') + "@" + std::string(63, 'd') + "." + std::string(63, 'd') +
                                    "." + std::string(63, 'd')));  // 255 characters
}

TEST_CASE("addresses are stored in ASCII lower case", "[identity][fields]") {
  CHECK(identity::normalized_email("First.Last@Example.COM") == "first.last@example.com");
}

TEST_CASE("the stored User-Agent is printable ASCII of at most 256 bytes", "[identity][request_origin]") {
  CHECK(identity::stored_user_agent(std::nullopt).empty());
  CHECK(identity::stored_user_agent("curl/8.0") == "curl/8.0");
  CHECK(identity::stored_user_agent("a\tb\x01\xc3\xbc") == "a?b???");
  CHECK(identity::stored_user_agent(std::string(300, 'x')).size() == 256);
}
