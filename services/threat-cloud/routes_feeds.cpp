// /api/feeds: text/plain blocklists (one normalised value per line after '#' header lines) and
// the JSON/CSV IoC feed, all with ETag / If-None-Match.
#include <algorithm>
#include <any>
#include <array>
#include <optional>
#include <string>

#include <boost/json/serialize.hpp>
#include "api_keys.hpp"

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "iocs.hpp"
#include "query.hpp"
#include "routes.hpp"
#include "security/digest.hpp"

namespace tc {

namespace {

constexpr std::array<std::string_view, 2> kFeedFormats{"json", "csv"};

struct Blocklist {
  const char* path;
  const char* title;
  std::vector<IocType> types;
};

// True when If-None-Match names `etag` (weak or strong) or is "*".
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

// The filters every feed shares (minReputation, type within `types`, tlp, since, TLP
// visibility), with a canonical text of them for the ETag and the header lines.
FeedQuery feed_query(const common::Request& req, std::vector<IocType> types, std::string& filters) {
  FeedQuery query;
  query.types = std::move(types);
  if (auto n = query::integer(req, "minReputation", 0, 100)) query.min_reputation = static_cast<int>(*n);
  filters = "minReputation=" + std::to_string(query.min_reputation);
  if (auto t = req.query_param("type")) {
    auto type = parse_type(*t);
    auto allowed = query.types;
    if (allowed.empty())
      for (std::size_t i = 0; i < kTypeNames.size(); ++i) allowed.push_back(static_cast<IocType>(i));
    if (!type || std::find(allowed.begin(), allowed.end(), *type) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(type_name(a));
      throw common::ApiError::validation("query parameter 'type' must be one of: " + names);
    }
    query.types = {*type};
    filters += ", type=" + *t;
  }
  query.tlp = query::one_of(req, "tlp", kTlps);
  if (query.tlp) filters += ", tlp=" + *query.tlp;
  query.since = query::timestamp(req, "since");
  if (query.since) filters += ", since=" + *query.since;
  const auto* caller = std::any_cast<Caller>(&req.principal);
  query.shareable_only = !caller || caller->anonymous;
  if (query.shareable_only) filters += ", tlp<=green";
  return query;
}

// The ETag of a feed: its filters and entries, not the generation time.
std::string feed_etag(const std::string& filters, const std::string& entries) {
  return "\"" + security::sha256_hex(filters + "\n" + entries).substr(0, 32) + "\"";
}

std::optional<common::Response> not_modified(const common::Request& req, const std::string& etag) {
  auto inm = req.headers.get("If-None-Match");
  if (!inm || !etag_matches(*inm, etag)) return std::nullopt;
  auto res = common::Response::empty(304);
  res.headers.set("ETag", etag);
  return res;
}

common::Response blocklist(const Iocs& iocs, const Blocklist& list, common::Request& req) {
  std::string filters;
  FeedQuery query = feed_query(req, list.types, filters);
  std::string entries;
  std::int64_t count = 0;
  iocs.feed(query, [&](std::string_view value) {
    entries.append(value);
    entries.push_back('\n');
    ++count;
  });
  std::string etag = feed_etag(filters, entries);
  if (auto res = not_modified(req, etag)) return std::move(*res);
  std::string body = "# Panguard Threat Cloud " + std::string(list.title) + "\n# Generated: " + common::rfc3339_now() +
                     "\n# Entries: " + std::to_string(count) + "\n# Filters: " + filters + "\n";
  body += entries;
  auto res = common::Response::text(std::move(body));
  res.headers.set("ETag", etag);
  return res;
}

// RFC 4180 field: quoted when it holds a comma, quote or line break.
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

common::Response ioc_feed(const Iocs& iocs, common::Request& req) {
  auto format = query::one_of(req, "format", kFeedFormats).value_or("json");
  std::string filters;
  FeedQuery query = feed_query(req, {}, filters);
  boost::json::array entries;
  std::string csv = "type,value,threatType,reputation,confidence,tlp,firstSeen,lastSeen,tags\r\n";
  iocs.feed_iocs(query, [&](const Ioc& i) {
    if (format == "csv") {
      std::string tags;
      for (const auto& t : i.tags) tags += (tags.empty() ? "" : ";") + t;
      csv += std::string(type_name(i.type)) + "," + csv_field(i.normalized_value) + "," + csv_field(i.threat_type) +
             "," + std::to_string(i.reputation) + "," + std::to_string(i.confidence) + "," + i.tlp + "," +
             i.first_seen + "," + i.last_seen + "," + csv_field(tags) + "\r\n";
      return;
    }
    boost::json::array tags;
    for (const auto& t : i.tags) tags.emplace_back(t);
    entries.push_back({{"type", type_name(i.type)},
                       {"value", i.normalized_value},
                       {"threatType", i.threat_type},
                       {"reputation", i.reputation},
                       {"confidence", i.confidence},
                       {"tlp", i.tlp},
                       {"firstSeen", i.first_seen},
                       {"lastSeen", i.last_seen},
                       {"tags", std::move(tags)}});
  });
  if (format == "csv") {
    std::string etag = feed_etag(filters + ", format=csv", csv);
    if (auto res = not_modified(req, etag)) return std::move(*res);
    auto res = common::Response::text(std::move(csv), "text/csv; charset=utf-8");
    res.headers.set("ETag", etag);
    return res;
  }
  std::string etag = feed_etag(filters, boost::json::serialize(entries));
  if (auto res = not_modified(req, etag)) return std::move(*res);
  auto total = static_cast<std::int64_t>(entries.size());
  auto res = common::envelope_ok(
      {{"generatedAt", common::rfc3339_now()}, {"totalEntries", total}, {"entries", std::move(entries)}});
  res.headers.set("ETag", etag);
  return res;
}

}  // namespace

std::vector<common::Route> feed_routes(Iocs& iocs) {
  static const std::array<Blocklist, 4> kLists{{
      {"/api/feeds/ip-blocklist", "IP blocklist", {IocType::Ip}},
      {"/api/feeds/domain-blocklist", "domain blocklist", {IocType::Domain}},
      {"/api/feeds/url-blocklist", "URL blocklist", {IocType::Url}},
      {"/api/feeds/hash-blocklist", "hash blocklist", {IocType::HashMd5, IocType::HashSha1, IocType::HashSha256}},
  }};
  std::vector<common::Route> routes;
  routes.push_back({.method = "GET",
                    .path = "/api/feeds/iocs",
                    .auth = "public-read",
                    .limit = "feed",
                    .handler = [&iocs](common::Request& r) { return ioc_feed(iocs, r); },
                    .offload = true});
  for (const auto& list : kLists)
    routes.push_back({.method = "GET",
                      .path = list.path,
                      .auth = "public-read",
                      .limit = "feed",
                      .handler = [&iocs, &list](common::Request& r) { return blocklist(iocs, list, r); },
                      .offload = true});
  return routes;
}

}  // namespace tc
