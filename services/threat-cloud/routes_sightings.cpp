// /api/sightings: report that an IoC was seen, not seen, or is a false positive.
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "iocs.hpp"
#include "routes.hpp"
#include "sightings.hpp"

namespace tc {

namespace {

namespace input = common::input;

boost::json::object sighting_json(const Sighting& s) {
  boost::json::object o{{"id", s.id},
                        {"iocId", s.ioc_id},
                        {"type", s.kind},
                        {"source", s.source},
                        {"observedAt", s.observed_at},
                        {"createdAt", s.created_at},
                        {"reportedBy", s.reported_by}};
  if (s.note) o["note"] = *s.note;
  return o;
}

// The IoC a sighting names: `iocId`, or `value` (type detected, or `iocType`) of a known IoC.
std::string target_id(const Iocs& iocs, const boost::json::object& body) {
  auto id = input::optional_text(body, "iocId", {.min = 1, .max = 64});
  auto value = input::optional_text(body, "value", {.min = 1, .max = 2048});
  if (id.has_value() == value.has_value())
    throw common::ApiError::validation("'iocId' or 'value' is required (exactly one of them)");
  if (id) return *id;
  auto type = input::optional_one_of(body, "iocType",
                                     {"ip", "domain", "url", "hash_md5", "hash_sha1", "hash_sha256", "email", "cve"});
  auto key = classify(*value, type ? parse_type(*type) : std::nullopt);
  if (!key) throw common::ApiError::validation("'value' is not a recognised IoC");
  auto ioc = iocs.find(*key);
  if (!ioc) throw common::ApiError::not_found("no IoC with this value");
  return ioc->id;
}

common::Response report(Iocs& iocs, Sightings& sightings, common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  NewSighting s;
  s.kind = input::optional_one_of(body, "type", {"positive", "negative", "false_positive"}).value_or("positive");
  s.source = input::optional_text(body, "source", {.min = 1, .max = 128}).value_or("api");
  s.note = input::optional_text(body, "note", {.min = 1, .max = 1000, .single_line = false});
  if (auto t = input::optional_timestamp(body, "observedAt")) s.observed_at = common::rfc3339_from_unix(*t);
  std::string id = target_id(iocs, body);
  auto result = sightings.record(id, s, actor_of(req));
  if (!result) throw common::ApiError::not_found("no IoC with this id");
  return common::envelope_ok({{"sighting", sighting_json(result->first)}, {"ioc", ioc_json(result->second)}}, 201);
}

common::Response list(const Sightings& sightings, common::Request& req) {
  auto page = common::parse_page(req);
  auto id = common::input::query_text(req, "iocId", 64);
  if (!id) throw common::ApiError::validation("query parameter 'iocId' is required");
  auto result = sightings.list(*id, page.limit, page.offset());
  if (!result) throw common::ApiError::not_found("no IoC with this id");
  boost::json::array items;
  for (const auto& s : result->first) items.push_back(sighting_json(s));
  return common::envelope_page(std::move(items), result->second, page);
}

}  // namespace

std::vector<common::Route> sighting_routes(Iocs& iocs, Sightings& sightings) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/sightings",
       .auth = "write",
       .limit = "write",
       .fields = {"iocId", "iocType", "note", "observedAt", "source", "type", "value"},
       .handler = [&iocs, &sightings](Request& r) { return report(iocs, sightings, r); }},
      {.method = "GET",
       .path = "/api/sightings",
       .auth = "read",
       .limit = "read",
       .query = {"iocId", "limit", "page"},
       .handler = [&sightings](Request& r) { return list(sightings, r); }},
  };
}

}  // namespace tc
