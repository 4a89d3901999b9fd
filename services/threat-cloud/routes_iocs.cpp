// /api/iocs: upload (upsert), list with filters, lookup by value, bulk lookup, patch.
#include <algorithm>
#include <any>
#include <array>
#include <cctype>

#include <boost/json/value_from.hpp>
#include <boost/json/serialize.hpp>

#include "api_keys.hpp"
#include "batch.hpp"
#include "campaigns.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "events.hpp"
#include "iocs.hpp"
#include "json_text.hpp"
#include "routes.hpp"

namespace tc {

namespace {

namespace input = common::input;

constexpr std::size_t kMaxBatch = 1000;
constexpr std::size_t kMaxValueLength = 2048;
constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
constexpr std::size_t kMaxTags = 50;
constexpr std::int64_t kMaxAsn = 4294967295LL;
constexpr std::size_t kUploadBodyLimit = 8 * 1024 * 1024;
constexpr std::size_t kLookupBodyLimit = 4 * 1024 * 1024;
constexpr std::array<std::string_view, 3> kPatchStatuses{"active", "revoked", "under_review"};

[[noreturn]] void invalid(const std::string& field, std::string_view rule) {
  throw common::ApiError::validation("'" + field + "' " + std::string(rule));
}

}  // namespace

boost::json::object ioc_json(const Ioc& i) {
  boost::json::object o{{"id", i.id},
                        {"type", type_name(i.type)},
                        {"value", i.value},
                        {"normalizedValue", i.normalized_value},
                        {"threatType", i.threat_type},
                        {"source", i.source},
                        {"sourceReliability", i.source_reliability},
                        {"confidence", i.confidence},
                        {"reputation", i.reputation},
                        {"tlp", i.tlp},
                        {"firstSeen", i.first_seen},
                        {"lastSeen", i.last_seen},
                        {"sightings", i.sightings},
                        {"status", i.status},
                        {"tags", boost::json::value_from(i.tags)},
                        {"mitreTechniques", boost::json::value_from(i.mitre_techniques)}};
  if (i.country) o["country"] = *i.country;
  if (i.asn) o["asn"] = *i.asn;
  o["metadata"] = i.metadata;
  o["createdAt"] = i.created_at;
  o["updatedAt"] = i.updated_at;
  return o;
}

std::optional<std::string> tlp_query(const common::Request& req) {
  if (req.query_param("tlp") == "amber strict") return std::string("amber+strict");
  return common::input::query_one_of(req, "tlp", kTlps);
}

namespace {

// Members of one JSON object written straight into a string (the hot lookup path), in the
// order and form boost::json would give them.
class ObjectText {
 public:
  explicit ObjectText(std::string& out) : out_(out) { out_ += '{'; }
  ObjectText& text(std::string_view key, std::string_view value) {
    return raw(key, boost::json::serialize(boost::json::string_view(value)));
  }
  ObjectText& number(std::string_view key, std::int64_t value) { return raw(key, std::to_string(value)); }
  ObjectText& boolean(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
  ObjectText& raw(std::string_view key, std::string_view json) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;  // keys are fixed ASCII names
    out_ += "\":";
    out_ += json;
    return *this;
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

// ioc_json(i) as text, for an IoC read with its JSON columns as text. Stored lists and
// objects are written as they are when empty, else re-read (damaged text reads as empty).
void write_ioc(std::string& out, const Ioc& i) {
  auto list = [](const std::string& text) { return text == "[]" ? text : json_list(parse_list(text)); };
  ObjectText o(out);
  o.text("id", i.id)
      .text("type", type_name(i.type))
      .text("value", i.value)
      .text("normalizedValue", i.normalized_value)
      .text("threatType", i.threat_type)
      .text("source", i.source)
      .text("sourceReliability", i.source_reliability)
      .number("confidence", i.confidence)
      .number("reputation", i.reputation)
      .text("tlp", i.tlp)
      .text("firstSeen", i.first_seen)
      .text("lastSeen", i.last_seen)
      .number("sightings", i.sightings)
      .text("status", i.status)
      .raw("tags", list(i.tags_text))
      .raw("mitreTechniques", list(i.mitre_techniques_text));
  if (i.country) o.text("country", *i.country);
  if (i.asn) o.number("asn", *i.asn);
  o.raw("metadata", i.metadata_text == "{}" ? i.metadata_text : boost::json::serialize(parse_object(i.metadata_text)))
      .text("createdAt", i.created_at)
      .text("updatedAt", i.updated_at)
      .close();
}

// Anonymous callers (TC_PUBLIC_READS) see only what TLP allows to be shared publicly.
bool visible_to(const common::Request& req, const Ioc& ioc) {
  const auto* caller = std::any_cast<Caller>(&req.principal);
  if (caller && !caller->anonymous) return true;
  return ioc.tlp == "clear" || ioc.tlp == "green";
}

// T1234 or T1234.567, returned in upper case.
std::string technique(const std::string& raw, const std::string& field) {
  std::string t;
  for (char c : raw) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t k = from; k < from + n; ++k)
      if (k >= t.size() || !std::isdigit(static_cast<unsigned char>(t[k]))) return false;
    return true;
  };
  bool ok =
      t.size() >= 5 && t[0] == 'T' && digits(1, 4) && (t.size() == 5 || (t.size() == 9 && t[5] == '.' && digits(6, 3)));
  if (!ok) invalid(field, "must be a MITRE ATT&CK technique id such as T1059 or T1059.001");
  return t;
}

// One of `allowed` (enumerations shared with the query filters), or absent.
std::optional<std::string> enum_field(const boost::json::object& o, std::string_view field,
                                      std::span<const std::string_view> allowed) {
  auto v = input::optional_text(o, field, {.min = 1, .max = 32});
  if (v && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    invalid(std::string(field), "must be one of: " + list);
  }
  return v;
}

std::optional<std::string> timestamp_field(const boost::json::object& o, std::string_view field) {
  auto t = input::optional_timestamp(o, field);
  return t ? std::optional(common::rfc3339_from_unix(*t)) : std::nullopt;
}

std::optional<std::int64_t> asn_field(const boost::json::object& o) {
  const auto* v = o.if_contains("asn");
  if (v && v->is_string()) {
    std::string s(v->as_string());
    if (s.size() > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) s = s.substr(2);
    if (!s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      auto n = std::stoll(s);
      if (n <= kMaxAsn) return n;
    }
    invalid("asn", "must be an AS number (integer or \"AS64500\")");
  }
  return input::optional_integer(o, "asn", 0, kMaxAsn);
}

IocSubmission parse_submission(const boost::json::object& o) {
  IocSubmission s;
  s.value = input::text(o, "value", {.min = 1, .max = kMaxValueLength});
  auto type = enum_field(o, "type", kTypeNames);
  auto hint = type ? parse_type(*type) : std::nullopt;
  auto classified = classify(s.value, hint);
  if (!classified) {
    if (hint) invalid("value", "is not a valid " + *type);
    invalid("value", "is not a recognised IoC (ip, domain, url, hash_md5, hash_sha1, hash_sha256, email, cve)");
  }
  s.classified = std::move(*classified);
  s.threat_type = input::optional_text(o, "threatType", {.min = 1, .max = 64});
  s.source = input::optional_text(o, "source", {.min = 1, .max = 128});
  s.source_reliability = enum_field(o, "sourceReliability", kReliabilities);
  if (auto c = input::optional_integer(o, "confidence", 0, 100)) s.confidence = static_cast<int>(*c);
  if (auto r = input::optional_integer(o, "reputation", 0, 100)) s.reputation = static_cast<int>(*r);
  s.tlp = enum_field(o, "tlp", kTlps);
  s.status = enum_field(o, "status", kStatuses);
  s.first_seen = timestamp_field(o, "firstSeen");
  s.last_seen = timestamp_field(o, "lastSeen");
  if (s.first_seen && s.last_seen && *s.first_seen > *s.last_seen) invalid("firstSeen", "must not be after lastSeen");
  s.tags = input::text_list(o, "tags", kMaxTags, {.min = 1, .max = 64});
  auto techniques = input::text_list(o, "mitreTechniques", kMaxTags, {.min = 1, .max = 16});
  for (std::size_t k = 0; k < techniques.size(); ++k)
    s.mitre_techniques.push_back(technique(techniques[k], "mitreTechniques[" + std::to_string(k) + "]"));
  if (auto country = input::optional_text(o, "country", {.min = 2, .max = 2})) {
    for (auto& c : *country) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!std::all_of(country->begin(), country->end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      invalid("country", "must be an ISO 3166-1 alpha-2 code such as DE");
    s.country = std::move(country);
  }
  s.asn = asn_field(o);
  if (auto metadata = input::optional_object(o, "metadata")) {
    if (boost::json::serialize(*metadata).size() > kMaxMetadataBytes)
      invalid("metadata", "must be at most " + std::to_string(kMaxMetadataBytes) + " bytes as JSON");
    s.metadata = std::move(metadata);
  }
  return s;
}

common::Response upload(Iocs& iocs, common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  std::vector<IocSubmission> submissions;
  if (const auto* list = body.if_contains("iocs")) {
    if (!list->is_array()) invalid("iocs", "must be an array of IoC objects");
    const auto& a = list->as_array();
    if (a.empty() || a.size() > kMaxBatch) invalid("iocs", "must have 1 to " + std::to_string(kMaxBatch) + " items");
    submissions.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) submissions.push_back(parse_element(a[i], "iocs", i, parse_submission));
  } else {
    submissions.push_back(parse_submission(body));
  }
  auto result = iocs.upsert(submissions, actor_of(req));
  boost::json::array ids;
  for (auto& id : result.ids) ids.emplace_back(id);
  return common::envelope_ok({{"created", result.created}, {"updated", result.updated}, {"ids", std::move(ids)}},
                             result.created > 0 ? 201 : 200);
}

common::Response list(Iocs& iocs, common::Request& req) {
  auto page = common::parse_page(req);
  IocFilter f;
  if (auto t = common::input::query_one_of(req, "type", kTypeNames)) f.type = parse_type(*t);
  f.source = common::input::query_text(req, "source", 128);
  f.status = common::input::query_one_of(req, "status", kStatuses);
  f.tag = common::input::query_text(req, "tag", 64);
  f.tlp = tlp_query(req);
  f.search = common::input::query_text(req, "search", 256);
  if (auto n = common::input::query_integer(req, "minReputation", 0, 100)) f.min_reputation = static_cast<int>(*n);
  if (auto n = common::input::query_integer(req, "maxReputation", 0, 100)) f.max_reputation = static_cast<int>(*n);
  if (f.min_reputation && f.max_reputation && *f.min_reputation > *f.max_reputation)
    throw common::ApiError::validation("query parameter 'minReputation' must not exceed 'maxReputation'");
  f.since = common::input::query_timestamp_text(req, "since");
  if (auto sort = req.query_param("sort")) {
    std::string_view field = *sort;
    f.descending = field.starts_with('-');
    if (f.descending) field.remove_prefix(1);
    if (std::find(std::begin(kSortFields), std::end(kSortFields), field) == std::end(kSortFields))
      throw common::ApiError::validation(
          "query parameter 'sort' must be one of lastSeen, firstSeen, reputation, confidence, sightings, value, "
          "createdAt, optionally prefixed with - for descending order");
    f.sort = std::string(field);
  }
  auto [items, total] = iocs.list(f, page.limit, page.offset());
  boost::json::array out;
  for (const auto& i : items) out.push_back(ioc_json(i));
  return common::envelope_page(std::move(out), total, page);
}

constexpr std::int64_t kRelatedThreats = 20;

common::Response lookup_one(Iocs& iocs, const LookupContext& related, common::Request& req) {
  std::string value(req.param("value"));
  auto type = common::input::query_one_of(req, "type", kTypeNames);
  auto hint = type ? parse_type(*type) : std::nullopt;
  auto key = classify(value, hint);
  if (!key) {
    if (hint) invalid("value", "is not a valid " + *type);
    invalid("value", "is not a recognised IoC (ip, domain, url, hash_md5, hash_sha1, hash_sha256, email, cve)");
  }
  // The IoC, its events and their campaigns come from one read transaction. Campaigns only
  // hold events, so an IoC without events has none and the campaign query is skipped.
  boost::json::array threats, campaigns;
  std::int64_t threats_total = 0;
  auto ioc = iocs.find(*key, [&](store::Connection& c, const Ioc& found) {
    if (!visible_to(req, found) || !related.events) return;
    auto [events, total] = ThreatEvents::for_ioc(c, found.id, kRelatedThreats);
    for (const auto& e : events) threats.push_back(event_json(e));
    threats_total = total;
    if (total > 0 && related.campaigns)
      for (const auto& campaign : Campaigns::for_ioc(c, found.id)) campaigns.push_back(campaign_json(campaign));
  });
  if (ioc && !visible_to(req, *ioc)) ioc.reset();
  // The envelope {"ok":true,"data":{...}}, written directly.
  std::string body;
  body.reserve(1024);
  ObjectText envelope(body);
  envelope.boolean("ok", true).raw("data", "");
  ObjectText data(body);
  data.boolean("found", ioc.has_value())
      .text("type", type_name(key->type))
      .text("normalizedValue", key->normalized)
      .text("verdict", verdict_of(ioc ? &*ioc : nullptr));
  if (ioc) {
    data.raw("ioc", "");
    write_ioc(body, *ioc);
  }
  data.raw("relatedThreats", boost::json::serialize(threats))
      .number("relatedThreatsTotal", threats_total)
      .raw("campaigns", boost::json::serialize(campaigns))
      .close();
  envelope.close();
  return common::Response::text(std::move(body), "application/json");
}

common::Response lookup_bulk(Iocs& iocs, common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  const auto* values = body.if_contains("values");
  if (!values || values->is_null()) invalid("values", "is required");
  if (!values->is_array()) invalid("values", "must be an array of strings");
  const auto& a = values->as_array();
  if (a.empty() || a.size() > kMaxBatch) invalid("values", "must have 1 to " + std::to_string(kMaxBatch) + " items");
  std::vector<std::optional<Classified>> keys;
  keys.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string() || a[i].as_string().empty() || a[i].as_string().size() > kMaxValueLength)
      invalid("values[" + std::to_string(i) + "]", "must be a string of 1 to 2048 characters");
    keys.push_back(classify(a[i].as_string()));
  }
  auto found = iocs.find_many(keys);
  boost::json::array results;
  std::int64_t hits = 0, malicious = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    boost::json::object r{{"value", a[i]}};
    if (!keys[i]) {
      r["found"] = false;
      r["verdict"] = "invalid";
      results.push_back(std::move(r));
      continue;
    }
    auto& ioc = found[i];
    if (ioc && !visible_to(req, *ioc)) ioc.reset();
    r["type"] = type_name(keys[i]->type);
    r["normalizedValue"] = keys[i]->normalized;
    r["found"] = ioc.has_value();
    auto verdict = verdict_of(ioc ? &*ioc : nullptr);
    r["verdict"] = verdict;
    if (ioc) {
      ++hits;
      if (verdict == "malicious") ++malicious;
      r["id"] = ioc->id;
      r["threatType"] = ioc->threat_type;
      r["reputation"] = ioc->reputation;
      r["confidence"] = ioc->confidence;
      r["status"] = ioc->status;
      r["tlp"] = ioc->tlp;
      r["lastSeen"] = ioc->last_seen;
    }
    results.push_back(std::move(r));
  }
  boost::json::object out{{"results", std::move(results)},
                          {"total", static_cast<std::int64_t>(a.size())},
                          {"found", hits},
                          {"malicious", malicious}};
  return common::envelope_ok(std::move(out));
}

// PATCH names an IoC like GET does, by value (type auto-detected or ?type=); an IoC id
// (ioc_<16 hex>, as uploads answer) is accepted too. "" when no IoC has that value.
std::string patch_target(const Iocs& iocs, const common::Request& req) {
  std::string value(req.param("value"));
  bool is_id = value.size() == 20 && value.starts_with("ioc_") &&
               std::all_of(value.begin() + 4, value.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  auto type = common::input::query_one_of(req, "type", kTypeNames);
  if (is_id && !type) return value;
  auto key = classify(value, type ? parse_type(*type) : std::nullopt);
  if (!key) {
    if (type) invalid("value", "is not a valid " + *type);
    invalid("value", "is not an IoC id or a recognised IoC value");
  }
  auto found = iocs.find(*key);
  return found ? found->id : std::string();
}

common::Response patch(Iocs& iocs, common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  IocPatch p;
  p.status = enum_field(body, "status", kPatchStatuses);
  p.tlp = enum_field(body, "tlp", kTlps);
  if (body.contains("tags") && !body.at("tags").is_null())
    p.tags = input::text_list(body, "tags", kMaxTags, {.min = 1, .max = 64});
  if (auto c = input::optional_integer(body, "confidence", 0, 100)) p.confidence = static_cast<int>(*c);
  if (!p.status && !p.tlp && !p.tags && !p.confidence)
    throw common::ApiError::validation("the body must set at least one of status, tags, tlp, confidence");
  auto ioc = iocs.update(patch_target(iocs, req), p, actor_of(req));
  if (!ioc) throw common::ApiError::not_found("no such IoC");
  return common::envelope_ok(ioc_json(*ioc));
}

}  // namespace

std::vector<common::Route> ioc_routes(Iocs& iocs, LookupContext related) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/iocs",
       .auth = "write",
       .limit = "write",
       .fields = {"asn", "confidence", "country", "firstSeen", "iocs", "lastSeen", "metadata", "mitreTechniques",
                  "reputation", "source", "sourceReliability", "status", "tags", "threatType", "tlp", "type", "value"},
       .handler = [&iocs](Request& r) { return upload(iocs, r); },
       .body_limit = kUploadBodyLimit,
       .offload = true},
      {.method = "GET",
       .path = "/api/iocs",
       .auth = "read",
       .limit = "read",
       .query = {"limit", "maxReputation", "minReputation", "page", "search", "since", "sort", "source", "status",
                 "tag", "tlp", "type"},
       .handler = [&iocs](Request& r) { return list(iocs, r); },
       .offload = true},
      {.method = "GET",
       .path = "/api/iocs/{value}",
       .auth = "public-read",
       .limit = "read",
       .query = {"type"},
       .handler = [&iocs, related](Request& r) { return lookup_one(iocs, related, r); }},
      {.method = "POST",
       .path = "/api/iocs/lookup",
       .auth = "public-read",
       .limit = "read",
       .fields = {"values"},
       .handler = [&iocs](Request& r) { return lookup_bulk(iocs, r); },
       .body_limit = kLookupBodyLimit},
      {.method = "PATCH",
       .path = "/api/iocs/{value}",
       .auth = "write",
       .limit = "write",
       .fields = {"confidence", "status", "tags", "tlp"},
       .query = {"type"},
       .handler = [&iocs](Request& r) { return patch(iocs, r); }},
  };
}

}  // namespace tc
