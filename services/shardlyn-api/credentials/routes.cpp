// Credentials Endpoints.
#include "credentials/routes.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object credential_json(const Credential& c) {
  return {{"id", c.id},
          {"provider", c.provider},
          {"name", c.name},
          {"hint", c.hint},
          {"is_default", c.is_default},
          {"created_by", c.created_by},
          {"created_at", common::rfc3339_from_unix(c.created_at)},
          {"updated_at", common::rfc3339_from_unix(c.updated_at)},
          {"verified_at", common::rfc3339_or_null(c.verified_at)},
          {"verified", json::value_from(c.verify_valid)},
          {"verify_message", json::value_from(c.verify_message)}};
}

std::string provider_field(const json::object& body) {
  return common::input::one_of(body, "provider", {"aws", "gcp", "hetzner", "oci", "cloudflare", "steam"});
}

json::object secrets_field(const json::object& body) {
  auto secrets = common::input::optional_object(body, "secrets");
  if (!secrets) throw common::ApiError::validation("'secrets': required, an object of the provider's fields");
  return *secrets;
}

std::string id_of(const common::Request& req) { return fields::uuid_param(req, "id", "credential"); }

common::Response list_credentials(Credentials& credentials, common::Request& req) {
  auto provider = req.query_param("provider");
  if (provider && !providers::known(*provider))
    throw common::ApiError::validation("'provider': one of aws, gcp, hetzner, oci, cloudflare, steam");
  json::array items;
  for (const auto& c : credentials.list(caller_of(req), provider)) items.push_back(credential_json(c));
  return list_page(req, std::move(items));
}

common::Response create_credential(Credentials& credentials, common::Request& req) {
  auto body = req.json_object();
  auto provider = provider_field(body);
  auto name = fields::name(body, "name");
  auto secrets = secrets_field(body);
  bool make_default = common::input::optional_boolean(body, "is_default").value_or(false);
  return common::Response::json(credential_json(credentials.create(caller_of(req), provider, name, secrets, make_default)),
                                201);
}

common::Response show_credential(Credentials& credentials, common::Request& req) {
  return common::Response::json(credential_json(credentials.get(caller_of(req), id_of(req))));
}

common::Response update_credential(Credentials& credentials, common::Request& req) {
  std::string id = id_of(req);
  auto body = req.json_object();
  CredentialChanges changes{fields::optional_name(body, "name"), common::input::optional_object(body, "secrets")};
  return common::Response::json(credential_json(credentials.update(caller_of(req), id, changes)));
}

common::Response delete_credential(Credentials& credentials, common::Request& req) {
  credentials.remove(caller_of(req), id_of(req));
  return common::Response::empty(204);
}

common::Response set_default(Credentials& credentials, common::Request& req) {
  return common::Response::json(credential_json(credentials.make_default(caller_of(req), id_of(req))));
}

common::Response verify_credential(Credentials& credentials, common::Request& req) {
  auto [credential, outcome] = credentials.verify(caller_of(req), id_of(req));
  auto out = credential_json(credential);
  out["valid"] = outcome.valid;
  out["message"] = outcome.message;
  return common::Response::json(out);
}

}  // namespace

Routes credential_routes(Credentials& credentials) {
  const Guard member{Auth::Member, OrgScope::Current};
  return group("/v1/credentials", member,
               {
                   get("", "credentials.read", bind(credentials, list_credentials),
                       {.query = {"limit", "page", "per_page", "provider"}}),
                   post("", "credentials.manage", bind(credentials, create_credential),
                        {.fields = {"is_default", "name", "provider", "secrets"}}),
                   get("/{id}", "credentials.read", bind(credentials, show_credential)),
                   put("/{id}", "credentials.manage", bind(credentials, update_credential),
                       {.fields = {"name", "secrets"}}),
                   del("/{id}", "credentials.manage", bind(credentials, delete_credential)),
                   post("/{id}/default", "credentials.manage", bind(credentials, set_default)),
                   post("/{id}/verify", "credentials.manage", bind(credentials, verify_credential), {.offload = true}),
               });
}

}  // namespace shardlyn
