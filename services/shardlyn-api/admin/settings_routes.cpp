// Settings, Webhook Token, Support and System Endpoints.
#include <boost/json.hpp>

#include "admin/routes.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

json::object ssh_key_json(const SshKey& k) {
  return {{"name", k.name},
          {"public_key", k.public_key},
          {"fingerprint", k.fingerprint},
          {"is_default", k.is_default},
          {"created_at", common::rfc3339_from_unix(k.created_at)}};
}

json::object webhook_token_json(const WebhookToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"last_four", t.last_four},
          {"created_by", t.created_by},
          {"created_at", common::rfc3339_from_unix(t.created_at)}};
}

// The documented settings keys, validated; null clears a key.
json::object settings_changes(const json::object& body) {
  json::object out;
  auto text = [&](const char* key, std::size_t max) {
    if (!body.contains(key)) return;
    if (body.at(key).is_null()) {
      out[key] = nullptr;
      return;
    }
    out[key] = common::input::text(body, key, {.min = 1, .max = max});
  };
  if (body.contains("default_provider")) {
    if (body.at("default_provider").is_null())
      out["default_provider"] = nullptr;
    else
      out["default_provider"] = common::input::one_of(body, "default_provider", {"hetzner", "aws", "gcp", "oci"});
  }
  text("default_region", 64);
  text("default_instance_type", 64);
  if (body.contains("notification_email")) {
    if (body.at("notification_email").is_null())
      out["notification_email"] = nullptr;
    else
      out["notification_email"] = fields::email(body, "notification_email");
  }
  if (out.empty())
    throw common::ApiError::validation(
        "nothing to update: send default_provider, default_region, default_instance_type or notification_email");
  return out;
}

std::string ssh_key_name(std::string_view name) {
  common::input::check_text(name, "SSH key name", {.min = 1, .max = 64});
  return std::string(name);
}

}  // namespace

std::vector<common::Route> settings_routes(Platform& platform) {
  Platform* p = &platform;
  return {
      {.method = "GET",
       .path = "/v1/settings",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "settings.read",
       .handler = [p](common::Request& req) { return common::Response::json(p->settings_of(caller_of(req))); }},
      {.method = "PUT",
       .path = "/v1/settings",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "settings.manage",
       .fields = {"default_provider", "default_region", "default_instance_type", "notification_email"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             return common::Response::json(p->update_settings(caller_of(req), settings_changes(body)));
           }},
      {.method = "POST",
       .path = "/v1/settings/ssh-keys",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "settings.manage",
       .fields = {"name", "public_key"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto name = common::input::text(body, "name", {.min = 1, .max = 64});
             auto key = common::input::text(body, "public_key", {.min = 16, .max = 16384});
             return common::Response::json(ssh_key_json(p->add_ssh_key(caller_of(req), name, key)), 201);
           }},
      {.method = "DELETE",
       .path = "/v1/settings/ssh-keys/{name}",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "settings.manage",
       .handler =
           [p](common::Request& req) {
             p->remove_ssh_key(caller_of(req), ssh_key_name(req.param("name")));
             return common::Response::empty(204);
           }},
      {.method = "POST",
       .path = "/v1/settings/ssh-keys/{name}/default",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "settings.manage",
       .handler =
           [p](common::Request& req) {
             return common::Response::json(
                 ssh_key_json(p->set_default_ssh_key(caller_of(req), ssh_key_name(req.param("name")))));
           }},
      {.method = "GET",
       .path = "/v1/webhook-tokens",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "webhooks.read",
       .query = {"limit", "page", "per_page"},
       .handler =
           [p](common::Request& req) {
             json::array items;
             for (const auto& t : p->webhook_tokens(caller_of(req))) items.push_back(webhook_token_json(t));
             return list_page(req, std::move(items));
           }},
      {.method = "POST",
       .path = "/v1/webhook-tokens",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "webhooks.manage",
       .fields = {"name"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto [t, token] = p->create_webhook_token(caller_of(req), common::input::text(body, "name", {.max = 100}));
             auto out = webhook_token_json(t);
             out["token"] = token;
             return common::Response::json(out, 201);
           }},
      {.method = "DELETE",
       .path = "/v1/webhook-tokens/{id}",
       .auth = "jwt_or_api_token",
       .scope = "current",
       .permission = "webhooks.manage",
       .handler =
           [p](common::Request& req) {
             p->delete_webhook_token(caller_of(req), fields::uuid_param(req, "id", "webhook token"));
             return common::Response::empty(204);
           }},
      {.method = "POST",
       .path = "/v1/support/messages",
       .auth = "jwt",
       .limit = "support",
       .fields = {"message", "subject"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto subject = common::input::text(body, "subject", {.min = 1, .max = 200});
             auto message = common::input::text(body, "message", {.min = 1, .max = 10000, .single_line = false});
             return common::Response::json(p->send_support_message(caller_of(req), subject, message), 201);
           }},
      {.method = "GET",
       .path = "/v1/support/helpscout/signature",
       .auth = "jwt",
       .handler =
           [p](common::Request& req) {
             const auto& c = caller_of(req);
             return common::Response::json(
                 json::object{{"user_id", c.user_id}, {"email", c.email}, {"signature", p->helpscout_signature(c)}});
           }},
      {.method = "GET",
       .path = "/v1/system/backup-config",
       .auth = "admin",
       .permission = "admin.settings",
       .handler = [p](common::Request&) { return common::Response::json(p->system_backup_config()); }},
  };
}

}  // namespace shardlyn
