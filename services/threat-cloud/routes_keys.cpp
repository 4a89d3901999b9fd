// /api/keys: admins create, list and revoke scoped API keys.
#include <boost/json/value_from.hpp>

#include "api_keys.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "routes.hpp"

namespace tc {

namespace {

constexpr std::size_t kMaxNameLength = 100;
constexpr std::size_t kMaxScopes = 3;

boost::json::object key_json(const ApiKeyRecord& r) {
  boost::json::array scopes;
  for (auto s : r.scopes) scopes.emplace_back(scope_name(s));
  boost::json::object o{{"id", r.id},
                        {"name", r.name},
                        {"scopes", std::move(scopes)},
                        {"createdAt", r.created_at},
                        {"createdBy", r.created_by}};
  o["expiresAt"] = boost::json::value_from(r.expires_at);
  o["revokedAt"] = boost::json::value_from(r.revoked_at);
  std::string status = "active";
  if (r.revoked_at)
    status = "revoked";
  else if (r.expires_at && common::parse_rfc3339(*r.expires_at).value_or(0) <= common::unix_seconds())
    status = "expired";
  o["status"] = status;
  return o;
}

common::Response create_key(ApiKeys& keys, common::Request& req) {
  auto body_value = req.json();
  const auto& body = body_value.as_object();
  std::string name = common::input::text(body, "name", {.min = 1, .max = kMaxNameLength});
  auto scope_names = common::input::text_list(body, "scopes", kMaxScopes, {.min = 1, .max = 16});
  if (scope_names.empty())
    throw common::ApiError::validation("'scopes' is required: one or more of read, write, admin");
  std::vector<Scope> scopes;
  for (std::size_t i = 0; i < scope_names.size(); ++i) {
    auto s = parse_scope(scope_names[i]);
    if (!s) throw common::ApiError::validation("'scopes[" + std::to_string(i) + "]' must be one of read, write, admin");
    scopes.push_back(*s);
  }
  std::optional<std::int64_t> expires;
  if (auto when = common::input::optional_timestamp(body, "expiresAt")) {
    if (*when <= common::unix_seconds()) throw common::ApiError::validation("'expiresAt' must be in the future");
    expires = when;
  }
  auto created = keys.create(std::move(name), std::move(scopes), expires, actor_of(req));
  auto out = key_json(created.record);
  out["key"] = created.key;
  return common::envelope_ok(std::move(out), 201);
}

common::Response list_keys(ApiKeys& keys, common::Request& req) {
  auto page = common::parse_page(req);
  auto [records, total] = keys.list(page.limit, page.offset());
  boost::json::array items;
  for (const auto& r : records) items.push_back(key_json(r));
  return common::envelope_page(std::move(items), total, page);
}

common::Response revoke_key(ApiKeys& keys, common::Request& req) {
  auto record = keys.revoke(req.param("id"), actor_of(req));
  if (!record) throw common::ApiError::not_found("no active API key with this id");
  return common::envelope_ok(key_json(*record));
}

}  // namespace

std::vector<common::Route> key_routes(ApiKeys& keys) {
  using common::Request;
  return {
      {.method = "POST",
       .path = "/api/keys",
       .auth = "admin",
       .limit = "admin",
       .fields = {"expiresAt", "name", "scopes"},
       .handler = [&keys](Request& r) { return create_key(keys, r); }},
      {.method = "GET",
       .path = "/api/keys",
       .auth = "admin",
       .limit = "admin",
       .query = {"limit", "page"},
       .handler = [&keys](Request& r) { return list_keys(keys, r); }},
      {.method = "DELETE",
       .path = "/api/keys/{id}",
       .auth = "admin",
       .limit = "admin",
       .handler = [&keys](Request& r) { return revoke_key(keys, r); }},
  };
}

}  // namespace tc
