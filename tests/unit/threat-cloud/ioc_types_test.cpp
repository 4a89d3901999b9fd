#include "ioc_types.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

namespace {

using tc::classify;
using tc::IocType;
using tc::normalize;

// The type and canonical form classify() finds, or "" when it finds none.
std::string detected(std::string_view value) {
  auto c = classify(value);
  return c ? std::string(tc::type_name(c->type)) + " " + c->normalized : "";
}

}  // namespace

TEST_CASE("type names round-trip") {
  for (auto t : {IocType::Ip, IocType::Domain, IocType::Url, IocType::HashMd5, IocType::HashSha1, IocType::HashSha256,
                 IocType::Email, IocType::Cve})
    CHECK(tc::parse_type(tc::type_name(t)) == t);
  CHECK(tc::type_name(IocType::HashSha256) == "hash_sha256");
  CHECK_FALSE(tc::parse_type("IP"));
  CHECK_FALSE(tc::parse_type(""));
  CHECK_FALSE(tc::parse_type("sha256"));
}

TEST_CASE("IPv4: canonical, port stripped, malformed rejected") {
  CHECK(normalize(IocType::Ip, "1.2.3.4") == "1.2.3.4");
  CHECK(normalize(IocType::Ip, " 10.0.0.1 \n") == "10.0.0.1");
  CHECK(normalize(IocType::Ip, "1.2.3.4:8080") == "1.2.3.4");
  CHECK(normalize(IocType::Ip, "255.255.255.255:65535") == "255.255.255.255");
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4:0"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4:65536"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4:"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4:http"));
  CHECK_FALSE(normalize(IocType::Ip, "256.1.1.1"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4.5"));
  CHECK_FALSE(normalize(IocType::Ip, "01.2.3.4"));              // leading zeros are ambiguous (octal)
  CHECK(normalize(IocType::Ip, "1.2.3.4/24") == "1.2.3.0/24");  // a network (Spamhaus DROP)
  CHECK_FALSE(normalize(IocType::Ip, "1.2.3.4/24:80"));
  CHECK_FALSE(normalize(IocType::Ip, "1.2. 3.4"));
  CHECK_FALSE(normalize(IocType::Ip, ""));
}

TEST_CASE("IPv6: compressed lower case, brackets and port stripped") {
  CHECK(normalize(IocType::Ip, "2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
  CHECK(normalize(IocType::Ip, "2001:db8::1") == "2001:db8::1");
  CHECK(normalize(IocType::Ip, "[2001:db8::1]") == "2001:db8::1");
  CHECK(normalize(IocType::Ip, "[2001:db8::1]:443") == "2001:db8::1");
  CHECK(normalize(IocType::Ip, "::1") == "::1");
  CHECK(normalize(IocType::Ip, "::FFFF:1.2.3.4") == "1.2.3.4");  // IPv4-mapped is the IPv4 address
  CHECK(normalize(IocType::Ip, "[::ffff:102:304]:80") == "1.2.3.4");
  CHECK(normalize(IocType::Ip, "64:ff9b::1.2.3.4") == "64:ff9b::102:304");  // NAT64 is not mapped
  CHECK_FALSE(normalize(IocType::Ip, "[2001:db8::1]:0"));
  CHECK_FALSE(normalize(IocType::Ip, "[2001:db8::1"));
  CHECK_FALSE(normalize(IocType::Ip, "[2001:db8::1]x"));
  CHECK_FALSE(normalize(IocType::Ip, "fe80::1%eth0"));
  CHECK_FALSE(normalize(IocType::Ip, "2001:db8:::1"));
  CHECK_FALSE(normalize(IocType::Ip, "12345::1"));
}

TEST_CASE("domains: lower case, no trailing dot, IDN bytes as given") {
  CHECK(normalize(IocType::Domain, "Example.COM") == "example.com");
  CHECK(normalize(IocType::Domain, "example.com.") == "example.com");
  CHECK(normalize(IocType::Domain, "a-b.c_d.example.org") == "a-b.c_d.example.org");
  CHECK(normalize(IocType::Domain, "xn--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(normalize(IocType::Domain,
                  "B\xC3\xBC"
                  "cher.example") ==
        "b\xC3\xBC"
        "cher.example");
  CHECK_FALSE(normalize(IocType::Domain, "localhost"));  // a single label is not a domain IoC
  CHECK_FALSE(normalize(IocType::Domain, "example..com"));
  CHECK_FALSE(normalize(IocType::Domain, ".example.com"));
  CHECK_FALSE(normalize(IocType::Domain, "example.com.."));
  CHECK_FALSE(normalize(IocType::Domain, "-bad.example.com"));
  CHECK_FALSE(normalize(IocType::Domain, "bad-.example.com"));
  CHECK_FALSE(normalize(IocType::Domain, "1.2.3.4"));  // numeric TLD
  CHECK_FALSE(normalize(IocType::Domain, "example.c_m"));
  CHECK_FALSE(normalize(IocType::Domain, "exa mple.com"));
  CHECK_FALSE(normalize(IocType::Domain, "example.com:443"));
  CHECK_FALSE(normalize(IocType::Domain, std::string(64, 'a') + ".com"));
  CHECK(normalize(IocType::Domain, std::string(63, 'a') + ".com"));
  std::string long_name;
  for (int i = 0; i < 50; ++i) long_name += "abcd.";
  CHECK_FALSE(normalize(IocType::Domain, long_name + "example.com"));  // > 253 bytes
}

TEST_CASE("URLs: canonical scheme and host, default port removed") {
  CHECK(normalize(IocType::Url, "HTTP://Evil.Example.COM:80/Path?Q=1#frag") == "http://evil.example.com/Path?Q=1");
  CHECK(normalize(IocType::Url, "https://evil.example:443") == "https://evil.example/");
  CHECK(normalize(IocType::Url, "https://evil.example:8443/x") == "https://evil.example:8443/x");
  CHECK(normalize(IocType::Url, "http://evil.example:443/") == "http://evil.example:443/");
  CHECK(normalize(IocType::Url, "ftp://files.example:21/a") == "ftp://files.example/a");
  CHECK(normalize(IocType::Url, "http://evil.example?x=1") == "http://evil.example/?x=1");
  CHECK(normalize(IocType::Url, "http://user:pw@Evil.Example/") == "http://user:pw@evil.example/");
  CHECK(normalize(IocType::Url, "http://1.2.3.4:80/a") == "http://1.2.3.4/a");
  CHECK(normalize(IocType::Url, "http://[2001:DB8::1]:8080/a") == "http://[2001:db8::1]:8080/a");
  CHECK(normalize(IocType::Url, "http://[::ffff:1.2.3.4]:81/") == "http://1.2.3.4:81/");
  CHECK(normalize(IocType::Url, "http://intranet/") == "http://intranet/");
  CHECK(normalize(IocType::Url, "http://evil.example./a") == "http://evil.example/a");
  CHECK_FALSE(normalize(IocType::Url, "evil.example/a"));
  CHECK_FALSE(normalize(IocType::Url, "://evil.example/"));
  CHECK_FALSE(normalize(IocType::Url, "1http://evil.example/"));
  CHECK_FALSE(normalize(IocType::Url, "http:///path"));
  CHECK_FALSE(normalize(IocType::Url, "http://evil.example:99999/"));
  CHECK_FALSE(normalize(IocType::Url, "http://evil.example:abc/"));
  CHECK_FALSE(normalize(IocType::Url, "http://[zz::1]/"));
  CHECK_FALSE(normalize(IocType::Url, "http://evil example/"));
}

TEST_CASE("URLs: dot segments resolved, escapes normalised (RFC 3986 6.2.2)") {
  CHECK(normalize(IocType::Url, "http://x.example/a/../b?x=1") == "http://x.example/b?x=1");
  CHECK(normalize(IocType::Url, "http://x.example/a/./b/.") == "http://x.example/a/b/");
  CHECK(normalize(IocType::Url, "http://x.example/a/b/..") == "http://x.example/a/");
  CHECK(normalize(IocType::Url, "http://x.example/../../etc") == "http://x.example/etc");
  CHECK(normalize(IocType::Url, "http://x.example/..") == "http://x.example/");
  CHECK(normalize(IocType::Url, "http://x.example/a//b/") == "http://x.example/a//b/");
  CHECK(normalize(IocType::Url, "http://x.example/a/%2E%2E/b") == "http://x.example/b");
  CHECK(normalize(IocType::Url, "http://x.example/%7euser/%41?q=%7e%2f") == "http://x.example/~user/A?q=~%2F");
  CHECK(normalize(IocType::Url, "http://x.example/a%2fb%zz%4") == "http://x.example/a%2Fb%zz%4");
  CHECK(normalize(IocType::Url, "http://x.example/p?next=/a/../b") == "http://x.example/p?next=/a/../b");
}

TEST_CASE("hashes: lower-case hex by length") {
  std::string md5(32, 'A'), sha1(40, 'b'), sha256(64, 'C');
  CHECK(normalize(IocType::HashMd5, md5) == std::string(32, 'a'));
  CHECK(normalize(IocType::HashSha1, sha1) == sha1);
  CHECK(normalize(IocType::HashSha256, sha256) == std::string(64, 'c'));
  CHECK_FALSE(normalize(IocType::HashMd5, sha1));
  CHECK_FALSE(normalize(IocType::HashSha256, std::string(63, 'a') + "g"));
  CHECK_FALSE(normalize(IocType::HashSha1, std::string(39, 'a')));
}

TEST_CASE("emails and CVE ids") {
  CHECK(normalize(IocType::Email, "Phisher@Evil.Example") == "phisher@evil.example");
  CHECK(normalize(IocType::Email, "a.b+c@mail.example.org") == "a.b+c@mail.example.org");
  CHECK_FALSE(normalize(IocType::Email, "@evil.example"));
  CHECK_FALSE(normalize(IocType::Email, "a@localhost"));
  CHECK_FALSE(normalize(IocType::Email, "a..b@evil.example"));
  CHECK_FALSE(normalize(IocType::Email, "a<b@evil.example"));
  CHECK_FALSE(normalize(IocType::Email, "a@b@evil.example"));
  CHECK_FALSE(normalize(IocType::Email, "a@evil.example."));
  CHECK(normalize(IocType::Cve, "cve-2024-1234") == "CVE-2024-1234");
  CHECK(normalize(IocType::Cve, "CVE-2021-44228") == "CVE-2021-44228");
  CHECK(normalize(IocType::Cve, "CVE-2024-1234567") == "CVE-2024-1234567");
  CHECK_FALSE(normalize(IocType::Cve, "CVE-2024-123"));
  CHECK_FALSE(normalize(IocType::Cve, "CVE-24-12345"));
  CHECK_FALSE(normalize(IocType::Cve, "CVE-2024-12a45"));
  CHECK_FALSE(normalize(IocType::Cve, "CVE_2024_12345"));
}

TEST_CASE("detection picks the type from the value") {
  CHECK(detected("8.8.8.8") == "ip 8.8.8.8");
  CHECK(detected("8.8.8.8:53") == "ip 8.8.8.8");
  CHECK(detected("[::1]:22") == "ip ::1");
  CHECK(detected("2001:DB8::1") == "ip 2001:db8::1");
  CHECK(detected("Evil.Example.") == "domain evil.example");
  CHECK(detected("https://Evil.Example") == "url https://evil.example/");
  CHECK(detected(std::string(32, 'F')) == "hash_md5 " + std::string(32, 'f'));
  CHECK(detected(std::string(40, '1')) == "hash_sha1 " + std::string(40, '1'));
  CHECK(detected(std::string(64, 'e')) == "hash_sha256 " + std::string(64, 'e'));
  CHECK(detected("bad@Evil.Example") == "email bad@evil.example");
  CHECK(detected("cve-2023-4863") == "cve CVE-2023-4863");
  CHECK(detected("deadbeef.com") == "domain deadbeef.com");
  CHECK(detected(std::string(33, 'a')) == "");  // hex of no hash length, and no domain
  CHECK(detected("not a value") == "");
  CHECK(detected("") == "");
  CHECK(detected("   ") == "");
  CHECK(detected("999.1.1.1") == "");
  CHECK(detected(std::string(3000, 'a') + ".com") == "");
  CHECK(detected("evil.example\x01") == "");
}

TEST_CASE("a type hint restricts detection to that type") {
  CHECK(classify("1.2.3.4", IocType::Ip)->normalized == "1.2.3.4");
  CHECK_FALSE(classify("1.2.3.4", IocType::Domain));
  CHECK_FALSE(classify("https://evil.example/", IocType::Domain));
  auto c = classify(std::string(32, 'a'), IocType::HashMd5);
  REQUIRE(c);
  CHECK(c->type == IocType::HashMd5);
}
