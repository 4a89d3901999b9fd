// What the route files share: resource shapes, list pages and who a request comes from.
#include "http/shapes.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "identity/request_origin.hpp"

namespace shardlyn {

namespace json = boost::json;

json::object user_json(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"is_admin", u.platform_admin},
          {"suspended", u.suspended},
          {"mfa_enabled", u.mfa_enabled},
          {"email_verified", u.email_verified},
          {"github_linked", u.github_id.has_value()},
          {"created_at", common::rfc3339_from_unix(u.created_at)}};
}

audit::Actor anonymous(const common::Request& req) { return {{}, {}, req.client_ip}; }

std::string user_agent(const common::Request& req) {
  return identity::stored_user_agent(req.headers.get("User-Agent"));
}

common::Response list_page(const common::Request& req, json::array items) {
  auto page = fields::page(req);
  auto total = static_cast<std::int64_t>(items.size());
  json::array shown;
  for (auto i = std::min(page.offset(), total); i < std::min(page.offset() + page.limit, total); ++i)
    shown.push_back(std::move(items[static_cast<std::size_t>(i)]));
  return common::bare_page(std::move(shown), total, page);
}

common::Response user_page(Users& users, const common::Request& req) {
  auto page = fields::page(req);
  auto search = req.query_param("search");
  if (search) common::input::check_text(*search, "query parameter 'search'", {.min = 1, .max = 100});
  auto [items, total] = users.list(search, page.limit, page.offset());
  json::array out;
  for (const auto& u : items) out.push_back(user_json(u));
  return common::bare_page(std::move(out), total, page);
}

}  // namespace shardlyn
