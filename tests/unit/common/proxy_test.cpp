// TRUST_PROXY: the setting's forms, and the right-to-left walk over X-Forwarded-For.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/proxy.hpp"

using common::Headers;
using common::TrustedProxies;

namespace {

Headers forwarded(std::initializer_list<const char*> lines) {
  Headers h;
  for (const char* line : lines) h.add("X-Forwarded-For", line);
  return h;
}

std::string client(std::string_view setting, const std::string& peer, std::initializer_list<const char*> lines) {
  return TrustedProxies::parse(setting).client_ip(peer, forwarded(lines));
}

}  // namespace

TEST_CASE("proxy: false, empty and 0 ignore the header", "[common][proxy]") {
  for (const char* off : {"false", "", "0", "no", "OFF"}) {
    INFO("'" << off << "'");
    CHECK_FALSE(TrustedProxies::parse(off).enabled());
    CHECK(client(off, "127.0.0.1", {"10.1.1.1, 203.0.113.99"}) == "127.0.0.1");
  }
}

TEST_CASE("proxy: true is one hop and takes the entry the proxy appended", "[common][proxy]") {
  for (const char* one : {"true", "1", "TRUE", "yes"}) {
    INFO(one);
    // The client wrote 10.1.1.1; the proxy appended the address it saw.
    CHECK(client(one, "127.0.0.1", {"10.1.1.1, 203.0.113.99"}) == "203.0.113.99");
    CHECK(client(one, "127.0.0.1", {"203.0.113.99"}) == "203.0.113.99");
  }
  // No header: the peer itself.
  CHECK(client("true", "127.0.0.1", {}) == "127.0.0.1");
}

TEST_CASE("proxy: a hop count walks that many entries from the right", "[common][proxy]") {
  CHECK(client("2", "127.0.0.1", {"1.1.1.1, 2.2.2.2, 3.3.3.3"}) == "2.2.2.2");
  CHECK(client("3", "127.0.0.1", {"1.1.1.1, 2.2.2.2, 3.3.3.3"}) == "1.1.1.1");
  // Fewer entries than hops: the leftmost the chain knows.
  CHECK(client("5", "127.0.0.1", {"1.1.1.1, 2.2.2.2"}) == "1.1.1.1");
  // Several header lines form one list, in order.
  CHECK(client("2", "127.0.0.1", {"1.1.1.1", "2.2.2.2, 3.3.3.3"}) == "2.2.2.2");
}

TEST_CASE("proxy: a malformed entry ends the walk at the hop that sent it", "[common][proxy]") {
  CHECK(client("1", "127.0.0.1", {"1.1.1.1, not-an-ip"}) == "127.0.0.1");
  CHECK(client("3", "127.0.0.1", {"1.1.1.1, garbage, 3.3.3.3"}) == "3.3.3.3");
}

TEST_CASE("proxy: CIDR lists trust only proxies at those addresses", "[common][proxy]") {
  auto t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5, ::1");
  CHECK(t.enabled());
  // Peer is a trusted proxy; the entry before it is a trusted proxy too; the next is the client.
  CHECK(t.client_ip("10.0.0.1", forwarded({"6.6.6.6, 198.51.100.7, 10.9.9.9"})) == "198.51.100.7");
  // A peer outside the list: the header is the client's own words and ignored.
  CHECK(t.client_ip("203.0.113.5", forwarded({"1.2.3.4"})) == "203.0.113.5");
  // IPv4-mapped peers match IPv4 networks; IPv6 entries work.
  CHECK(t.client_ip("::ffff:192.168.1.5", forwarded({"2001:db8::7"})) == "2001:db8::7");
  CHECK(t.client_ip("::1", forwarded({"[2001:db8::9]:4711"})) == "2001:db8::9");
  // Every entry trusted: the leftmost.
  CHECK(t.client_ip("10.0.0.1", forwarded({"10.2.2.2, 10.3.3.3"})) == "10.2.2.2");
  // Entries with a port.
  CHECK(t.client_ip("10.0.0.1", forwarded({"198.51.100.7:5555"})) == "198.51.100.7");
}

TEST_CASE("proxy: prefix lengths are checked bit by bit", "[common][proxy]") {
  auto t = TrustedProxies::parse("172.16.0.0/12,2001:db8::/32");
  CHECK(t.client_ip("172.31.255.255", forwarded({"8.8.8.8"})) == "8.8.8.8");
  CHECK(t.client_ip("172.32.0.1", forwarded({"8.8.8.8"})) == "172.32.0.1");
  CHECK(t.client_ip("2001:db8:ffff::1", forwarded({"8.8.8.8"})) == "8.8.8.8");
  CHECK(t.client_ip("2001:db9::1", forwarded({"8.8.8.8"})) == "2001:db9::1");
}

TEST_CASE("proxy: invalid settings are configuration errors naming the item", "[common][proxy]") {
  CHECK_THROWS_WITH(TrustedProxies::parse("maybe"), Catch::Contains("TRUST_PROXY") && Catch::Contains("maybe"));
  CHECK_THROWS_WITH(TrustedProxies::parse("10.0.0.0/33"), Catch::Contains("prefix"));
  CHECK_THROWS_AS(TrustedProxies::parse("10.0.0.0/"), common::ConfigError);
  CHECK_THROWS_AS(TrustedProxies::parse("99"), common::ConfigError);
}
