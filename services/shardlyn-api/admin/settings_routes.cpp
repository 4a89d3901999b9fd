// Settings, Webhook Token, Support and System Endpoints.
#include <boost/json.hpp>

#include "admin/routes.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/route_table.hpp"
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

// The stored document with every documented key (null when unset), then the organisation
// and its SSH keys.
json::object settings_json(const Caller& caller, const SettingsView& view) {
  json::object out = view.document;
  for (auto key : {"default_provider", "default_region", "default_instance_type", "notification_email"})
    if (!out.contains(key)) out[key] = nullptr;
  json::array keys;
  for (const auto& k : view.ssh_keys) keys.push_back(ssh_key_json(k));
  out["organization_id"] = caller.org_id;
  out["ssh_keys"] = std::move(keys);
  return out;
}

json::object support_message_json(const SupportMessage& m) {
  return {{"id", m.id},
          {"subject", m.subject},
          {"mailed", m.mailed},
          {"created_at", common::rfc3339_from_unix(m.created_at)}};
}

json::object backup_config_json(const BackupConfig& c) {
  json::array files;
  for (const auto& f : c.files) files.push_back({{"file", f.name}, {"bytes", f.bytes}});
  return {{"enabled", c.enabled},
          {"directory", c.directory.empty() ? json::value(nullptr) : json::value(c.directory)},
          {"interval_seconds", c.interval_s},
          {"keep", c.keep},
          {"database", c.database},
          {"backups", std::move(files)}};
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

common::Response show_settings(SettingsArea& a, common::Request& req) {
  const auto& caller = caller_of(req);
  return common::Response::json(settings_json(caller, a.settings.show(caller)));
}

common::Response update_settings(SettingsArea& a, common::Request& req) {
  auto body = req.json_object();
  const auto& caller = caller_of(req);
  return common::Response::json(settings_json(caller, a.settings.update(caller, settings_changes(body))));
}

common::Response add_ssh_key(SettingsArea& a, common::Request& req) {
  auto body = req.json_object();
  auto name = common::input::text(body, "name", {.min = 1, .max = 64});
  auto key = common::input::text(body, "public_key", {.min = 16, .max = 16384});
  return common::Response::json(ssh_key_json(a.settings.add_ssh_key(caller_of(req), name, key)), 201);
}

common::Response remove_ssh_key(SettingsArea& a, common::Request& req) {
  a.settings.remove_ssh_key(caller_of(req), ssh_key_name(req.param("name")));
  return common::Response::empty(204);
}

common::Response set_default_ssh_key(SettingsArea& a, common::Request& req) {
  return common::Response::json(
      ssh_key_json(a.settings.set_default_ssh_key(caller_of(req), ssh_key_name(req.param("name")))));
}

common::Response list_webhook_tokens(SettingsArea& a, common::Request& req) {
  json::array items;
  for (const auto& t : a.webhook_tokens.list(caller_of(req))) items.push_back(webhook_token_json(t));
  return list_page(req, std::move(items));
}

common::Response create_webhook_token(SettingsArea& a, common::Request& req) {
  auto body = req.json_object();
  auto [t, token] = a.webhook_tokens.create(caller_of(req), common::input::text(body, "name", {.max = 100}));
  auto out = webhook_token_json(t);
  out["token"] = token;
  return common::Response::json(out, 201);
}

common::Response delete_webhook_token(SettingsArea& a, common::Request& req) {
  a.webhook_tokens.remove(caller_of(req), fields::uuid_param(req, "id", "webhook token"));
  return common::Response::empty(204);
}

common::Response send_support_message(SettingsArea& a, common::Request& req) {
  auto body = req.json_object();
  auto subject = common::input::text(body, "subject", {.min = 1, .max = 200});
  auto message = common::input::text(body, "message", {.min = 1, .max = 10000, .single_line = false});
  return common::Response::json(support_message_json(a.support.send_message(caller_of(req), subject, message)), 201);
}

common::Response helpscout_signature(SettingsArea& a, common::Request& req) {
  const auto& c = caller_of(req);
  return common::Response::json(
      json::object{{"user_id", c.user_id}, {"email", c.email}, {"signature", a.support.helpscout_signature(c)}});
}

common::Response show_backup_config(SettingsArea& a, common::Request&) {
  return common::Response::json(backup_config_json(a.backups.config()));
}

}  // namespace

Routes settings_routes(SettingsArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  const Guard user{Auth::User, OrgScope::None};
  const Guard admin{Auth::Admin, OrgScope::None};
  auto on = [&area](common::Response (*handler)(SettingsArea&, common::Request&)) { return bind(area, handler); };
  return join({
      group("/v1/webhook-tokens", member,
            {
                get("", "webhooks.read", on(list_webhook_tokens), {.query = {"limit", "page", "per_page"}}),
                post("", "webhooks.manage", on(create_webhook_token), {.fields = {"name"}}),
                del("/{id}", "webhooks.manage", on(delete_webhook_token)),
            }),
      group("/v1/settings", member,
            {
                get("", "settings.read", on(show_settings)),
                put("", "settings.manage", on(update_settings),
                    {.fields = {"default_provider", "default_region", "default_instance_type", "notification_email"}}),
                post("/ssh-keys", "settings.manage", on(add_ssh_key), {.fields = {"name", "public_key"}}),
                del("/ssh-keys/{name}", "settings.manage", on(remove_ssh_key)),
                post("/ssh-keys/{name}/default", "settings.manage", on(set_default_ssh_key)),
            }),
      group("/v1/support", user,
            {
                post("/messages", "", on(send_support_message), {.limit = "support", .fields = {"message", "subject"}}),
                get("/helpscout/signature", "", on(helpscout_signature)),
            }),
      group("/v1/system", admin,
            {
                get("/backup-config", "admin.settings", on(show_backup_config)),
            }),
  });
}

}  // namespace shardlyn
