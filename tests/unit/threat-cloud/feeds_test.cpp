// STIX patterns and ids, feed-format parsing, and the reputation formula.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "feed_formats.hpp"
#include "ioc_types.hpp"
#include "reputation.hpp"
#include "stix.hpp"

namespace {

std::vector<tc::ParsedIoc> parse(std::string_view format, const std::string& text, tc::ParseReport* report = nullptr) {
  std::istringstream in(text);
  std::vector<tc::ParsedIoc> out;
  auto r = tc::parse_feed(format, in, [&](tc::ParsedIoc p) { out.push_back(std::move(p)); });
  if (report) *report = r;
  return out;
}

}  // namespace

TEST_CASE("CIDR networks normalise with host bits cleared") {
  CHECK(tc::normalize(tc::IocType::Ip, "5.134.128.1/19") == "5.134.128.0/19");
  CHECK(tc::normalize(tc::IocType::Ip, "192.0.2.7/32") == "192.0.2.7");
  CHECK(tc::normalize(tc::IocType::Ip, "2001:DB8::1/48") == "2001:db8::/48");
  CHECK(tc::normalize(tc::IocType::Ip, "0.0.0.0/0") == "0.0.0.0/0");
  CHECK_FALSE(tc::normalize(tc::IocType::Ip, "192.0.2.0/33"));
  CHECK_FALSE(tc::normalize(tc::IocType::Ip, "192.0.2.0/"));
  CHECK_FALSE(tc::normalize(tc::IocType::Ip, "300.0.2.0/24"));
  CHECK(tc::classify("10.0.0.0/8")->type == tc::IocType::Ip);
}

TEST_CASE("STIX patterns per IoC type") {
  using tc::IocType;
  CHECK(tc::stix::pattern(IocType::Ip, "192.0.2.1") == "[ipv4-addr:value = '192.0.2.1']");
  CHECK(tc::stix::pattern(IocType::Ip, "2001:db8::1") == "[ipv6-addr:value = '2001:db8::1']");
  CHECK(tc::stix::pattern(IocType::Domain, "evil.example") == "[domain-name:value = 'evil.example']");
  CHECK(tc::stix::pattern(IocType::Url, "http://x.example/it's") == "[url:value = 'http://x.example/it\\'s']");
  CHECK(tc::stix::pattern(IocType::HashSha256, "ab") == "[file:hashes.'SHA-256' = 'ab']");
  CHECK(tc::stix::pattern(IocType::HashMd5, "ab") == "[file:hashes.MD5 = 'ab']");
  CHECK_FALSE(tc::stix::pattern(IocType::Cve, "CVE-2024-0001"));
}

TEST_CASE("indicator ids are stable UUIDs that lead back to the IoC") {
  auto id = tc::stix::indicator_id("ioc_0123456789abcdef");
  CHECK(id == tc::stix::indicator_id("ioc_0123456789abcdef"));
  REQUIRE(id.size() == std::string("indicator--").size() + 36);
  CHECK(id.substr(11, 8) == "01234567");
  CHECK(id[11 + 14] == '4');  // version nibble
  CHECK(id[11 + 19] == '8');  // variant nibble
  CHECK(tc::stix::ioc_id_of(id) == "ioc_0123456789abcdef");
  auto forged = id;
  forged.back() = forged.back() == '0' ? '1' : '0';
  CHECK_FALSE(tc::stix::ioc_id_of(forged));
  CHECK_FALSE(tc::stix::ioc_id_of("indicator--nonsense"));
}

TEST_CASE("TLP markings") {
  CHECK(tc::stix::tlp_marking_id("clear") == "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9");
  CHECK(tc::stix::tlp_marking_id("amber+strict") == tc::stix::tlp_marking_id("amber"));
  CHECK(tc::stix::tlp_markings().size() == 4);
  CHECK(tc::stix::timestamp("2026-01-31T12:00:05Z") == "2026-01-31T12:00:05.000Z");
}

TEST_CASE("values from STIX patterns") {
  auto v = tc::stix::pattern_values(
      "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1/32'] AND "
      "[file:hashes.'SHA-256' = 'ef53'] AND [file:name = 'x.exe'] AND [email-message:subject MATCHES '^x = \\'y\\'']");
  REQUIRE(v.size() == 3);
  CHECK(v[0].type == tc::IocType::Domain);
  CHECK(v[0].value == "a.example");
  CHECK(v[1].value == "198.51.100.1/32");
  CHECK(v[2].type == tc::IocType::HashSha256);
  CHECK(tc::stix::pattern_values("[url:value = 'http://x.example/it\\'s']")[0].value == "http://x.example/it's");
}

TEST_CASE("CSV fields") {
  CHECK(tc::csv_fields(R"("a", "b,c", "d""e",,f)") == std::vector<std::string>{"a", "b,c", "d\"e", "", "f"});
  CHECK(tc::csv_fields("") == std::vector<std::string>{""});
  CHECK(tc::feed_time("2026-11-20 08:51:07") == "2026-11-20T08:51:07Z");
  CHECK(tc::feed_time("2026-11-20") == "2026-11-20T00:00:00Z");
  CHECK_FALSE(tc::feed_time("yesterday"));
}

TEST_CASE("feed formats: good lines become IoCs, bad lines are counted") {
  tc::ParseReport r;
  auto feodo = parse("feodo",
                     "# comment\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
                     "\"2026-10-01 07:44:46\",\"192.0.2.10\",\"443\",\"online\",\"2026-11-20\",\"QakBot\"\n"
                     "\"2026-10-01 07:44:46\",\"bad\",\"443\",\"online\",\"2026-11-20\",\"QakBot\"\n",
                     &r);
  REQUIRE(feodo.size() == 1);
  CHECK(feodo[0].key.normalized == "192.0.2.10");
  CHECK(feodo[0].threat_type == "botnet_cc");
  CHECK(feodo[0].tags == std::vector<std::string>{"qakbot"});
  CHECK(feodo[0].first_seen == "2026-10-01T07:44:46Z");
  CHECK(r.malformed == 1);
  CHECK(r.skipped == 2);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].starts_with("line 4: "));

  auto drop = parse("spamhaus-drop", "; header\n1.10.16.0/20 ; SBL256894\nnonsense\n", &r);
  REQUIRE(drop.size() == 1);
  CHECK(drop[0].key.normalized == "1.10.16.0/20");
  CHECK(drop[0].tags == std::vector<std::string>{"sbl256894"});
  CHECK(r.malformed == 1);

  auto ipsum = parse("ipsum", "# x\n192.0.2.1\t9\n192.0.2.2\t1\n192.0.2.3\n", &r);
  REQUIRE(ipsum.size() == 2);
  CHECK(ipsum[0].reputation == 100);
  CHECK(ipsum[1].reputation == 40);
  CHECK(r.malformed == 1);

  auto plain = parse("plain", "evil.example\n# c\n\n1.2.3.4:80 # note\nhas space\n", &r);
  REQUIRE(plain.size() == 2);
  CHECK(plain[1].key.normalized == "1.2.3.4");
  CHECK(r.malformed == 1);

  auto stix = parse("stix", "{\"objects\": 3}", &r);
  CHECK(stix.empty());
  CHECK(r.malformed == 1);
}

TEST_CASE("reputation formula") {
  tc::ReputationInputs fresh_c2{.threat_type = "botnet_cc", .confidence = 90, .reports = 1, .distinct_sources = 1};
  // 100 * (0.40 * 1 + 0.30 * 0.9 + 0.15 * (1 - e^-0.25) + 0.15 / 3) = 75.3
  CHECK(tc::reputation_score(fresh_c2) == 75);

  auto month_old = fresh_c2;
  month_old.days_since_seen = 30;  // one half-life
  CHECK(tc::reputation_score(month_old) == 38);
  auto two_months = fresh_c2;
  two_months.days_since_seen = 60;
  CHECK(tc::reputation_score(two_months) == 19);

  auto corroborated = fresh_c2;
  corroborated.reports = 20;
  corroborated.distinct_sources = 3;
  corroborated.confidence = 100;
  CHECK(tc::reputation_score(corroborated) == 100);  // 0.40 + 0.30 + 0.15 * 0.9933 + 0.15 = 99.9

  auto disputed = corroborated;
  disputed.false_positives = 1;
  CHECK(tc::reputation_score(disputed) == 50);

  tc::ReputationInputs unknown{.threat_type = "unknown", .confidence = 50};
  // 100 * (0.40 * 0.5 + 0.30 * 0.5 + 0.15 * 0.2212 + 0.05) = 43.3
  CHECK(tc::reputation_score(unknown) == 43);
  CHECK(tc::threat_severity("scanner") == 60);
  CHECK(tc::threat_severity("something new") == 60);

  auto future = fresh_c2;
  future.days_since_seen = -5;  // clock skew: treated as seen now
  CHECK(tc::reputation_score(future) == 75);
  tc::ReputationInputs nothing{.threat_type = "unknown", .confidence = 0, .reports = 0, .distinct_sources = 0};
  CHECK(tc::reputation_score(nothing) == 20);
}
