// /api/sources: reliability, licence and redistribution flag of each IoC source.
#include <algorithm>

#include "common/envelope.hpp"
#include "common/input.hpp"
#include "routes.hpp"
#include "sources.hpp"

namespace tc {

namespace {

namespace input = common::input;

boost::json::object source_json(const Source& s) {
  boost::json::object o{{"name", s.name},       {"reliability", s.reliability},
                        {"licence", s.licence}, {"redistribution", s.redistribution},
                        {"url", s.url},         {"iocs", s.iocs}};
  if (!s.created_at.empty()) {
    o["createdAt"] = s.created_at;
    o["updatedAt"] = s.updated_at;
  }
  return o;
}

common::Response save(Sources& sources, common::Request& req) {
  auto body = req.json_object();
  Source s;
  s.name = std::string(req.param("name"));
  input::check_text(s.name, "name", {.min = 1, .max = 128});
  s.reliability = input::one_of(body, "reliability", {"A", "B", "C", "D", "E", "F"});
  s.licence = input::optional_text(body, "licence", {.min = 0, .max = 200}).value_or("");
  auto redistribution = input::optional_boolean(body, "redistribution");
  if (!redistribution) throw common::ApiError::validation("'redistribution' is required (true or false)");
  s.redistribution = *redistribution;
  s.url = input::optional_text(body, "url", {.min = 0, .max = 2048}).value_or("");
  return common::envelope_ok(source_json(sources.save(s, actor_of(req))));
}

common::Response list(const Sources& sources, const common::Request& req) {
  auto page = common::parse_page(req);
  auto all = sources.list();
  auto total = static_cast<std::int64_t>(all.size());
  boost::json::array items;
  for (auto k = std::min(page.offset(), total); k < std::min(page.offset() + page.limit, total); ++k)
    items.push_back(source_json(all[static_cast<std::size_t>(k)]));
  return common::envelope_page(std::move(items), total, page);
}

}  // namespace

std::vector<common::Route> source_routes(Sources& sources) {
  using common::Request;
  return {
      {.method = "GET",
       .path = "/api/sources",
       .auth = "read",
       .limit = "read",
       .query = {"limit", "page"},
       .handler = [&sources](Request& r) { return list(sources, r); }},
      {.method = "PUT",
       .path = "/api/sources/{name}",
       .auth = "admin",
       .limit = "admin",
       .fields = {"licence", "redistribution", "reliability", "url"},
       .handler = [&sources](Request& r) { return save(sources, r); }},
  };
}

}  // namespace tc
