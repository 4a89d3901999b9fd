// /api/feeds: text/plain blocklists (one normalised value per line after '#' header lines),
// the JSON/CSV IoC feed and the STIX 2.1 bundle, all streamed from one snapshot, with
// ETag / If-None-Match.
#include <algorithm>
#include <any>
#include <array>
#include <optional>
#include <string>

#include <boost/json/value_from.hpp>
#include <boost/json/serialize.hpp>

#include "api_keys.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "feed_stream.hpp"
#include "feeds.hpp"
#include "iocs.hpp"
#include "routes.hpp"
#include "security/digest.hpp"
#include "security/random.hpp"
#include "stix.hpp"

namespace tc {

namespace {

constexpr std::array<std::string_view, 2> kFeedFormats{"json", "csv"};

struct Blocklist {
  const char* name;  // in the audit log
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
  if (auto n = common::input::query_integer(req, "minReputation", 0, 100)) query.min_reputation = static_cast<int>(*n);
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
  query.tlp = tlp_query(req);
  if (query.tlp) filters += ", tlp=" + *query.tlp;
  query.since = common::input::query_timestamp_text(req, "since");
  if (query.since) filters += ", since=" + *query.since;
  const auto* caller = std::any_cast<Caller>(&req.principal);
  query.shareable_only = !caller || caller->anonymous;
  if (query.shareable_only) filters += ", tlp<=green";
  return query;
}

// The ETag of a feed: its filters and the fingerprint of its entries (count, latest change,
// identities), not the generation time, so a feed is revalidated without sending it.
std::string feed_etag(const std::string& filters, const std::string& fingerprint) {
  return "\"" + security::sha256_hex(filters + "\n" + fingerprint).substr(0, 32) + "\"";
}

// Records the download, then answers 304 when If-None-Match names the current ETag.
std::optional<common::Response> not_modified(const FeedSource& source, const common::Request& req,
                                             std::string_view feed, const std::string& filters,
                                             const std::string& etag) {
  auto inm = req.headers.get("If-None-Match");
  bool unchanged = inm && etag_matches(*inm, etag);
  record_feed_access(*source.db, actor_of(req), feed, {{"filters", filters}, {"status", unchanged ? 304 : 200}});
  if (!unchanged) return std::nullopt;
  auto res = common::Response::empty(304);
  res.headers.set("ETag", etag);
  return res;
}

// Sends `head`, then what `row` appends for each entry of the reader, then `tail(count)`.
FillBody rows_body(std::shared_ptr<FeedReader> reader, std::string head,
                   std::function<void(FeedReader&, std::string&, std::int64_t index)> row,
                   std::function<std::string(std::int64_t count)> tail) {
  return [reader = std::move(reader), head = std::move(head), row = std::move(row), tail = std::move(tail),
          started = false, count = std::int64_t{0}](std::string& out) mutable {
    if (!started) {
      out += head;
      started = true;
    }
    for (int i = 0; i < 512; ++i) {
      if (!reader->next()) {
        if (tail) out += tail(count);
        return false;
      }
      row(*reader, out, count++);
    }
    return true;
  };
}

common::Response blocklist(const FeedSource& source, const Blocklist& list, common::Request& req) {
  std::string filters;
  FeedQuery query = feed_query(req, list.types, filters);
  auto reader = std::make_shared<FeedReader>(*source.db, query, FeedReader::Rows::Values,
                                                     feed_slot(source, req));
  std::string etag = feed_etag(filters, reader->fingerprint());
  if (auto res = not_modified(source, req, list.name, filters, etag)) return std::move(*res);
  std::string head = "# Panguard Threat Cloud " + std::string(list.title) + "\n# Generated: " + common::rfc3339_now() +
                     "\n# Entries: " + std::to_string(reader->count()) + "\n# Filters: " + filters + "\n";
  auto res = streamed(source, "text/plain; charset=utf-8",
                      rows_body(
                          std::move(reader), std::move(head),
                          [](FeedReader& r, std::string& out, std::int64_t) {
                            out += r.value();
                            out += '\n';
                          },
                          nullptr));
  res.headers.set("ETag", etag);
  return res;
}

// A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first: OWASP CSV
// injection) gets a leading apostrophe, which shows the text as it is.
std::string inert(std::string_view s) {
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos) return "'" + std::string(s);
  return std::string(s);
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

void csv_row(const Ioc& i, std::string& out) {
  // Each tag is neutralised as well: importers split the cell on ';'.
  std::string tags;
  for (const auto& t : i.tags) tags += (tags.empty() ? "" : ";") + inert(t);
  out += std::string(type_name(i.type)) + "," + csv_field(inert(i.normalized_value)) + "," +
         csv_field(inert(i.threat_type)) + "," + std::to_string(i.reputation) + "," + std::to_string(i.confidence) +
         "," + i.tlp + "," + i.first_seen + "," + i.last_seen + "," + csv_field(tags) + "\r\n";
}

boost::json::object feed_entry(const Ioc& i) {
  return {{"type", type_name(i.type)},  {"value", i.normalized_value}, {"threatType", i.threat_type},
          {"reputation", i.reputation}, {"confidence", i.confidence},  {"tlp", i.tlp},
          {"firstSeen", i.first_seen},  {"lastSeen", i.last_seen},     {"tags", boost::json::value_from(i.tags)}};
}

common::Response ioc_feed(const FeedSource& source, common::Request& req) {
  auto format = common::input::query_one_of(req, "format", kFeedFormats).value_or("json");
  std::string filters;
  FeedQuery query = feed_query(req, {}, filters);
  auto reader = std::make_shared<FeedReader>(*source.db, query, FeedReader::Rows::Iocs,
                                                     feed_slot(source, req));
  std::string etag = feed_etag(filters + ", format=" + format, reader->fingerprint());
  if (auto res = not_modified(source, req, "iocs", filters + ", format=" + format, etag)) return std::move(*res);
  common::Response res;
  if (format == "csv") {
    res = streamed(source, "text/csv; charset=utf-8",
                   rows_body(
                       std::move(reader), "type,value,threatType,reputation,confidence,tlp,firstSeen,lastSeen,tags\r\n",
                       [](FeedReader& r, std::string& out, std::int64_t) { csv_row(r.ioc(), out); }, nullptr));
  } else {
    // The envelope written piece by piece; totalEntries follows the entries it counts.
    std::string head = R"({"ok":true,"data":{"generatedAt":")" + common::rfc3339_now() + R"(","entries":[)";
    res = streamed(source, "application/json",
                   rows_body(
                       std::move(reader), std::move(head),
                       [](FeedReader& r, std::string& out, std::int64_t index) {
                         if (index) out += ',';
                         out += boost::json::serialize(feed_entry(r.ioc()));
                       },
                       [](std::int64_t count) { return R"(],"totalEntries":)" + std::to_string(count) + "}}"; }));
  }
  res.headers.set("ETag", etag);
  return res;
}

// A STIX 2.1 bundle: the TLP marking definitions, then one indicator per IoC of the feed.
common::Response stix_feed(const FeedSource& source, common::Request& req) {
  std::string filters;
  FeedQuery query = feed_query(req, {}, filters);
  auto reader = std::make_shared<FeedReader>(*source.db, query, FeedReader::Rows::Iocs,
                                                     feed_slot(source, req));
  std::string etag = feed_etag(filters + ", format=stix", reader->fingerprint());
  if (auto res = not_modified(source, req, "stix", filters, etag)) return std::move(*res);
  std::string markings = boost::json::serialize(stix::tlp_markings());
  std::string head = R"({"type":"bundle","id":"bundle--)" + security::uuid_v4() + R"(","objects":[)" +
                     markings.substr(1, markings.size() - 2);
  auto res = streamed(source, std::string(stix::kStixMediaType),
                      rows_body(
                          std::move(reader), std::move(head),
                          [](FeedReader& r, std::string& out, std::int64_t) {
                            if (auto o = stix::indicator(r.ioc())) {
                              out += ',';
                              out += boost::json::serialize(*o);
                            }
                          },
                          [](std::int64_t) { return std::string("]}"); }));
  res.headers.set("ETag", etag);
  return res;
}

}  // namespace

std::vector<common::Route> feed_routes(const FeedSource& source) {
  using common::Request;
  static const Blocklist kIps{"ip-blocklist", "IP blocklist", {IocType::Ip}};
  static const Blocklist kDomains{"domain-blocklist", "domain blocklist", {IocType::Domain}};
  static const Blocklist kUrls{"url-blocklist", "URL blocklist", {IocType::Url}};
  static const Blocklist kHashes{"hash-blocklist", "hash blocklist", {IocType::HashMd5, IocType::HashSha1, IocType::HashSha256}};
  return {
      {.method = "GET",
       .path = "/api/feeds/iocs",
       .auth = "public-read",
       .limit = "feed",
       .query = {"format", "minReputation", "since", "tlp", "type"},
       .handler = [source](Request& r) { return ioc_feed(source, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/feeds/stix",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since", "tlp", "type"},
       .handler = [source](Request& r) { return stix_feed(source, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/feeds/ip-blocklist",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since", "tlp"},  // one type: nothing for ?type= to choose
       .handler = [source](Request& r) { return blocklist(source, kIps, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/feeds/domain-blocklist",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since", "tlp"},  // one type: nothing for ?type= to choose
       .handler = [source](Request& r) { return blocklist(source, kDomains, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/feeds/url-blocklist",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since", "tlp"},  // one type: nothing for ?type= to choose
       .handler = [source](Request& r) { return blocklist(source, kUrls, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/feeds/hash-blocklist",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since", "tlp", "type"},
       .handler = [source](Request& r) { return blocklist(source, kHashes, r); },
       .offload = true},
  };
}

}  // namespace tc
