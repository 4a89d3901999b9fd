// SSH Certificate Authority Endpoints.
#include "sshca/routes.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object key_json(const CaKey& k) {
  return {{"id", k.id},
          {"public_key", k.public_key},
          {"fingerprint", k.fingerprint},
          {"algorithm", "ssh-ed25519"},
          {"active", k.active},
          {"certificates", k.certificates},
          {"created_at", common::rfc3339_from_unix(k.created_at)},
          {"retired_at", common::rfc3339_or_null(k.retired_at)},
          {"trusted_until", common::rfc3339_or_null(k.trusted_until)}};
}

json::object certificate_json(const SshCertificate& c) {
  return {{"id", c.id},
          {"certificate", c.certificate},
          {"serial_number", std::to_string(c.serial)},
          {"valid_after", common::rfc3339_from_unix(c.valid_after)},
          {"valid_before", common::rfc3339_from_unix(c.valid_before)},
          {"principals", json::value_from(c.principals)},
          {"key_id", c.key_id},
          {"key_type", c.key_type},
          {"key_fingerprint", c.key_fingerprint},
          {"ca_key_id", c.ca_key_id},
          {"user_id", c.user_id},
          {"node_id", json::value_from(c.node_id)},
          {"created_at", common::rfc3339_from_unix(c.created_at)},
          {"revoked", c.revoked_at.has_value()},
          {"revoked_at", common::rfc3339_or_null(c.revoked_at)}};
}

// Every trusted key: the signing key first, and as one text for sshd's TrustedUserCAKeys.
common::Response show_public_key(SshAuthority& ca, common::Request&) {
  auto keys = ca.trusted_keys(store::unix_now());
  json::array items;
  std::string lines;
  for (const auto& k : keys) {
    items.push_back(key_json(k));
    lines += k.public_key + "\n";
  }
  json::value active = keys.empty() || !keys.front().active ? json::value(nullptr) : json::value(keys.front().public_key);
  return common::Response::json(json::object{{"public_key", active}, {"keys", std::move(items)}, {"trusted_user_ca_keys", lines}});
}

common::Response sign_certificate(SshAuthority& ca, common::Request& req) {
  auto body = req.json_object();
  CertificateRequest request{common::input::text(body, "public_key", {.min = 16, .max = 16384}),
                             common::input::text_list(body, "principals", 32, {.min = 1, .max = 64}),
                             common::input::optional_integer(body, "validity_hours", 1, 8760)};
  request.node_id = common::input::optional_text(body, "node_id", {.min = 36, .max = 36});
  return common::Response::json(certificate_json(ca.sign(caller_of(req), request)));
}

common::Response list_certificates(SshAuthority& ca, common::Request& req) {
  json::array items;
  for (const auto& c : ca.list(caller_of(req))) items.push_back(certificate_json(c));
  return list_page(req, std::move(items));
}

common::Response show_certificate(SshAuthority& ca, common::Request& req) {
  return common::Response::json(certificate_json(ca.get(caller_of(req), fields::uuid_param(req, "id", "certificate"))));
}

common::Response revoke_certificate(SshAuthority& ca, common::Request& req) {
  return common::Response::json(
      certificate_json(ca.revoke(caller_of(req), fields::uuid_param(req, "id", "certificate"))));
}

common::Response revocation_list(SshAuthority& ca, common::Request&) {
  return common::Response::text(ca.revocation_list(store::unix_now()), "application/octet-stream");
}

common::Response list_keys(SshAuthority& ca, common::Request& req) {
  json::array items;
  for (const auto& k : ca.keys()) items.push_back(key_json(k));
  return list_page(req, std::move(items));
}

common::Response generate_key(SshAuthority& ca, common::Request& req) {
  return common::Response::json(key_json(ca.generate(caller_of(req))), 201);
}

common::Response rotate_key(SshAuthority& ca, common::Request& req) {
  return common::Response::json(key_json(ca.rotate(caller_of(req))), 201);
}

}  // namespace

Routes ssh_ca_routes(SshAuthority& ca) {
  const Guard visitor{};
  const Guard member{Auth::Member, OrgScope::Current};
  const Guard admin{Auth::Admin, OrgScope::None};
  const std::vector<std::string> page = {"limit", "page", "per_page"};
  return join({
      group("/v1/ssh", visitor,
            {
                get("/ca-public-key", "", bind(ca, show_public_key)),
                get("/krl", "", bind(ca, revocation_list)),
            }),
      group("/v1/ssh", member,
            {
                post("/certificate", "ssh.certificates", bind(ca, sign_certificate),
                     {.fields = {"node_id", "principals", "public_key", "validity_hours"}}),
                get("/certificates", "ssh.certificates", bind(ca, list_certificates), {.query = page}),
                get("/certificates/{id}", "ssh.certificates", bind(ca, show_certificate)),
                post("/certificates/{id}/revoke", "ssh.revoke", bind(ca, revoke_certificate)),
            }),
      group("/v1/ssh/ca", admin,
            {
                get("/keys", "admin.ssh_ca", bind(ca, list_keys), {.query = page}),
                post("/keys", "admin.ssh_ca", bind(ca, generate_key)),
                post("/keys/rotate", "admin.ssh_ca", bind(ca, rotate_key)),
            }),
  });
}

}  // namespace shardlyn
