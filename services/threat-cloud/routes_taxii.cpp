// /taxii2/: a read-only TAXII 2.1 server with one collection of indicators. Responses use the
// TAXII media type; errors, those of authentication and rate limits included, are TAXII error
// messages (the routes' error renderer), while keys and limits are the service's own.
#include <algorithm>
#include <any>
#include <charconv>

#include <boost/json/serialize.hpp>

#include "api_keys.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "feeds.hpp"
#include "routes.hpp"
#include "stix.hpp"

namespace tc {

namespace {

constexpr std::string_view kCollectionId = "8f6d3e9a-2c41-4b7e-9a53-1d0c7e4b2f68";
constexpr std::int64_t kDefaultLimit = 100;
constexpr std::int64_t kMaxLimit = 1000;

common::Response taxii(const boost::json::value& body, int status = 200) {
  return common::Response::text(boost::json::serialize(body), std::string(stix::kTaxiiMediaType), status);
}

// A TAXII 2.1 error message (section 3.6.1); the pipeline adds the error's headers.
common::Response taxii_error(const common::ApiError& e) {
  return taxii(boost::json::object{{"title", common::reason_phrase(e.status())},
                                   {"description", e.what()},
                                   {"http_status", std::to_string(e.status())}},
               e.status());
}

// Accept must allow the TAXII media type (absent or */* does).
void check_accept(const common::Request& req) {
  auto accept = req.headers.get("Accept");
  if (!accept) return;
  std::string a(*accept);
  for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  a.erase(std::remove(a.begin(), a.end(), ' '), a.end());
  if (a.find("*/*") != std::string::npos || a.find("application/*") != std::string::npos) return;
  auto at = a.find("application/taxii+json");
  if (at != std::string::npos) {
    auto rest = a.substr(at + 22);
    if (rest.empty() || rest[0] == ',' || rest.starts_with(";version=2.1")) return;
  }
  throw common::ApiError(406, "Accept must allow " + std::string(stix::kTaxiiMediaType));
}

boost::json::object collection_json() {
  return {{"id", kCollectionId},
          {"title", "Panguard indicators"},
          {"description", "Active indicators of compromise whose source allows redistribution"},
          {"can_read", true},
          {"can_write", false},
          {"media_types", boost::json::array{stix::kStixMediaType}}};
}

void check_collection(const common::Request& req) {
  if (req.param("id") != kCollectionId) throw common::ApiError::not_found("no collection with this id");
}

// "<updated_at>|<rowid>" as hex, so the token is opaque and URL-safe.
std::string next_token(const IndicatorPage& page) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = page.items.back().updated_at + "|" + std::to_string(page.last_rowid), out;
  for (unsigned char c : text) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::pair<std::string, std::int64_t> parse_next(const std::string& token) {
  std::string text;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  bool ok = token.size() % 2 == 0 && token.size() <= 256;
  for (std::size_t i = 0; ok && i < token.size(); i += 2) {
    int hi = nibble(token[i]), lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0)
      ok = false;
    else
      text += static_cast<char>(hi * 16 + lo);
  }
  auto bar = text.find('|');
  std::int64_t rowid = 0;
  if (ok && bar != std::string::npos) {
    auto digits = std::string_view(text).substr(bar + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), rowid);
    ok = ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
  }
  if (!ok || bar == std::string::npos || !common::parse_rfc3339(text.substr(0, bar)))
    throw common::ApiError::validation("query parameter 'next' is not a token this server issued");
  return {text.substr(0, bar), rowid};
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    auto item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The filters of objects and manifest: added_after, limit, next, match[id|type|version|spec_version].
// Returns nullopt when the match filters exclude every object of the collection.
std::optional<IndicatorQuery> page_query(const common::Request& req, std::string_view object_id = {}) {
  IndicatorQuery q;
  const auto* caller = std::any_cast<Caller>(&req.principal);
  q.shareable_only = !caller || caller->anonymous;
  q.added_after = common::input::query_timestamp_text(req, "added_after");
  q.limit = common::input::query_integer(req, "limit", 1, 1000000).value_or(kDefaultLimit);
  q.limit = std::min(q.limit, kMaxLimit);
  if (auto next = common::input::query_text(req, "next", 256)) q.after = parse_next(*next);
  bool none = false;
  std::vector<std::string> ids;
  if (!object_id.empty()) ids.emplace_back(object_id);
  if (auto m = common::input::query_text(req, "match[id]", 4000))
    for (const auto& id : split_commas(*m)) ids.push_back(id);
  if (!ids.empty()) {
    q.ids.emplace();
    for (const auto& id : ids)
      if (auto ioc = stix::ioc_id_of(id)) q.ids->push_back(*ioc);
    if (q.ids->empty()) none = true;
  }
  if (auto m = common::input::query_text(req, "match[type]", 1000)) {
    auto types = split_commas(*m);
    if (std::find(types.begin(), types.end(), "indicator") == types.end()) none = true;
  }
  if (auto m = common::input::query_text(req, "match[spec_version]", 100)) {
    auto versions = split_commas(*m);
    if (std::find(versions.begin(), versions.end(), "2.1") == versions.end()) none = true;
  }
  if (auto m = common::input::query_text(req, "match[version]", 1000)) {
    // One version per object: "first", "last" and "all" all select it; a timestamp selects
    // the objects modified exactly then.
    for (const auto& v : split_commas(*m)) {
      if (v == "first" || v == "last" || v == "all") continue;
      auto t = common::parse_rfc3339(v);
      if (!t)
        throw common::ApiError::validation("query parameter 'match[version]' must be first, last, all or a timestamp");
      q.version = common::rfc3339_from_unix(*t);
    }
  }
  if (none) return std::nullopt;
  return q;
}

// The page, with the TAXII date headers and the `more` / `next` members.
common::Response page_response(store::Database& db, const common::Request& req, std::string_view object_id,
                               bool manifest) {
  check_collection(req);
  auto q = page_query(req, object_id);
  IndicatorPage page;
  if (q) page = indicator_page(db, *q);
  record_feed_access(db, actor_of(req), manifest ? "taxii-manifest" : "taxii-objects",
                     {{"query", req.query}, {"objects", page.items.size()}});
  boost::json::array objects;
  for (const auto& ioc : page.items) {
    std::string id = stix::indicator_id(ioc.id);
    if (manifest)
      objects.push_back(boost::json::object{{"id", id},
                                            {"date_added", stix::timestamp(ioc.updated_at)},
                                            {"version", stix::timestamp(ioc.updated_at)},
                                            {"media_type", stix::kStixMediaType}});
    else if (auto o = stix::indicator(ioc))
      objects.push_back(std::move(*o));
  }
  if (!object_id.empty() && objects.empty()) throw common::ApiError::not_found("no object with this id");
  boost::json::object body{{"more", page.more}};
  if (page.more) body["next"] = next_token(page);
  if (!objects.empty()) body["objects"] = std::move(objects);
  auto res = taxii(body);
  if (!page.items.empty()) {
    res.headers.set("X-TAXII-Date-Added-First", stix::timestamp(page.items.front().updated_at));
    res.headers.set("X-TAXII-Date-Added-Last", stix::timestamp(page.items.back().updated_at));
  }
  return res;
}

common::Response discovery(common::Request&) {
  return taxii(boost::json::object{{"title", "Panguard Threat Cloud TAXII server"},
                                   {"description", "Indicators of compromise as STIX 2.1"},
                                   {"default", "/taxii2/api/"},
                                   {"api_roots", boost::json::array{"/taxii2/api/"}}});
}

common::Response api_root(common::Request&) {
  return taxii(boost::json::object{{"title", "Panguard indicators"},
                                   {"versions", boost::json::array{stix::kTaxiiMediaType}},
                                   {"max_content_length", 0}});
}

common::Response collections(common::Request&) {
  return taxii(boost::json::object{{"collections", boost::json::array{collection_json()}}});
}

common::Response collection(common::Request& req) {
  check_collection(req);
  return taxii(collection_json());
}

// Every TAXII answer first checks that the client accepts the TAXII media type.
common::Handler accepting(std::function<common::Response(common::Request&)> handler) {
  return [handler = std::move(handler)](common::Request& req) {
    check_accept(req);
    return handler(req);
  };
}

}  // namespace

std::vector<common::Route> taxii_routes(store::Database& db) {
  using common::Request;
  // Only the object and manifest endpoints filter and page (TAXII 2.1 section 5).
  const std::vector<std::string> filters{"added_after", "limit",    "next",          "match[id]",
                                         "match[type]", "match[spec_version]", "match[version]"};
  auto* d = &db;
  return {
      {.method = "GET",
       .path = "/taxii2/",
       .auth = "public-read",
       .limit = "read",
       .handler = accepting(discovery),
       .render_error = taxii_error,
       .offload = true},
      {.method = "GET",
       .path = "/taxii2/api/",
       .auth = "public-read",
       .limit = "read",
       .handler = accepting(api_root),
       .render_error = taxii_error,
       .offload = true},
      {.method = "GET",
       .path = "/taxii2/api/collections/",
       .auth = "public-read",
       .limit = "read",
       .handler = accepting(collections),
       .render_error = taxii_error,
       .offload = true},
      {.method = "GET",
       .path = "/taxii2/api/collections/{id}/",
       .auth = "public-read",
       .limit = "read",
       .handler = accepting(collection),
       .render_error = taxii_error,
       .offload = true},
      {.method = "GET",
       .path = "/taxii2/api/collections/{id}/objects/",
       .auth = "public-read",
       .limit = "read",
       .query = filters,
       .handler = accepting([d](Request& r) { return page_response(*d, r, {}, false); }),
       .render_error = taxii_error,
       .offload = true},  // database reads and the audit write
      {.method = "GET",
       .path = "/taxii2/api/collections/{id}/objects/{object_id}/",
       .auth = "public-read",
       .limit = "read",
       .query = filters,
       .handler = accepting([d](Request& r) { return page_response(*d, r, r.param("object_id"), false); }),
       .render_error = taxii_error,
       .offload = true},
      {.method = "GET",
       .path = "/taxii2/api/collections/{id}/manifest/",
       .auth = "public-read",
       .limit = "read",
       .query = filters,
       .handler = accepting([d](Request& r) { return page_response(*d, r, {}, true); }),
       .render_error = taxii_error,
       .offload = true},
  };
}

}  // namespace tc
