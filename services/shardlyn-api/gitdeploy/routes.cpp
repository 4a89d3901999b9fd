// Git Deploy: the configuration, syncs, status and history; the webhook receivers.
#include "gitdeploy/routes.hpp"

#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "security/digest.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::GitAuth;

namespace {

constexpr std::size_t kWebhookBodyLimit = 5 * 1024 * 1024;

std::string instance_id(const common::Request& req) { return fields::uuid_param(req, "id", "instance"); }

json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(common::rfc3339_from_unix(*t)) : json::value(nullptr);
}

json::object config_json(const GitConfig& c) {
  return {{"instance_id", c.instance_id},
          {"repository", c.repository},
          {"branch", c.branch},
          {"target_path", c.target},
          {"auth", agentproto::to_string(c.auth)},
          {"credential_set", c.credential_set},
          {"auto_sync", c.auto_sync},
          {"post_sync", to_string(c.post_sync)},
          {"post_sync_command", c.post_command.empty() ? json::value(nullptr) : json::value(c.post_command)},
          {"timeout_s", c.timeout_s},
          {"created_at", common::rfc3339_from_unix(c.created_at)},
          {"updated_at", common::rfc3339_from_unix(c.updated_at)}};
}

json::object sync_json(const GitSyncRecord& s) {
  return {{"id", s.id},
          {"instance_id", s.instance_id},
          {"state", s.state},
          {"trigger", s.trigger},
          {"actor", s.actor},
          {"commit", s.commit ? json::value(*s.commit) : json::value(nullptr)},
          {"error", s.error.empty() ? json::value(nullptr) : json::value(s.error)},
          {"output", s.output},
          {"post_sync", s.post_sync},
          {"post_sync_result", s.post_result.empty() ? json::value(nullptr) : json::value(s.post_result)},
          {"started_at", common::rfc3339_from_unix(s.started_at)},
          {"finished_at", time_or_null(s.finished_at)}};
}

// https://user:token@host/...: a credential in the URL would reach git's command line and logs.
bool userinfo_in_url(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos || url.starts_with("ssh://")) return false;
  auto authority = url.substr(scheme + 3, url.find('/', scheme + 3) - scheme - 3);
  return authority.find('@') != std::string_view::npos;
}

// The body of PUT .../git: every field checked here, before the domain sees it.
GitConfigInput config_input(const json::object& body) {
  GitConfigInput in;
  in.repository = common::input::text(body, "repository", {.min = 1, .max = 2048});
  if (!agentproto::valid_git_repository(in.repository))
    throw common::ApiError::validation("'repository': an https://, http://, ssh://, git:// or user@host:path URL");
  if (userinfo_in_url(in.repository))
    throw common::ApiError::validation("'repository': credentials go in 'credential', not in the URL");
  in.branch = common::input::optional_text(body, "branch", {.min = 1, .max = 255}).value_or("main");
  if (!agentproto::valid_git_branch(in.branch)) throw common::ApiError::validation("'branch': not a valid branch name");
  in.target = common::input::optional_text(body, "target_path", {.max = 1024}).value_or("");
  if (!agentproto::valid_git_target(in.target))
    throw common::ApiError::validation("'target_path': a path relative to the instance root, without '..'");
  auto auth = common::input::optional_one_of(body, "auth", {"none", "token", "ssh_key"}).value_or("none");
  in.auth = auth == "token" ? GitAuth::Token : auth == "ssh_key" ? GitAuth::SshKey : GitAuth::None;
  in.credential = common::input::optional_text(body, "credential", {.min = 1, .max = 16384, .single_line = false});
  if (in.credential && in.auth == GitAuth::None)
    throw common::ApiError::validation("'credential': only with auth token or ssh_key");
  in.auto_sync = common::input::optional_boolean(body, "auto_sync").value_or(true);
  auto post = common::input::optional_one_of(body, "post_sync", {"none", "restart", "command"}).value_or("none");
  in.post_sync = post == "restart" ? PostSync::Restart : post == "command" ? PostSync::Command : PostSync::None;
  auto command = common::input::optional_text(body, "post_sync_command", {.min = 1, .max = 1000});
  if ((in.post_sync == PostSync::Command) != command.has_value())
    throw common::ApiError::validation("'post_sync_command': required with post_sync command, and only with it");
  in.post_command = command.value_or("");
  in.timeout_s = static_cast<std::uint32_t>(common::input::optional_integer(body, "timeout_s", 1, 3600).value_or(300));
  in.rotate_secret = common::input::optional_boolean(body, "rotate_webhook_secret").value_or(false);
  return in;
}

common::Response show_config(GitDeployArea& area, common::Request& req) {
  return common::Response::json(config_json(area.deploys.get(caller_of(req), instance_id(req))));
}

common::Response put_config(GitDeployArea& area, common::Request& req) {
  auto id = instance_id(req);
  area.deploys.require_instance(caller_of(req), id);
  auto saved = area.deploys.put(caller_of(req), id, config_input(req.json_object()));
  auto out = config_json(saved.config);
  out["webhook_secret"] = saved.webhook_secret ? json::value(*saved.webhook_secret) : json::value(nullptr);
  return common::Response::json(out, saved.created ? 201 : 200);
}

common::Response delete_config(GitDeployArea& area, common::Request& req) {
  area.deploys.remove(caller_of(req), instance_id(req));
  return common::Response::empty(204);
}

common::Response start_sync(GitDeployArea& area, common::Request& req) {
  return common::Response::json(sync_json(area.deploys.sync(caller_of(req), instance_id(req))), 202);
}

common::Response sync_status(GitDeployArea& area, common::Request& req) {
  auto id = instance_id(req);
  auto last = area.deploys.status(caller_of(req), id);
  return common::Response::json({{"instance_id", id},
                                 {"running", last && last->state == "running"},
                                 {"last_sync", last ? json::value(sync_json(*last)) : json::value(nullptr)}});
}

common::Response sync_history(GitDeployArea& area, common::Request& req) {
  auto page = fields::page(req);
  auto [syncs, total] = area.deploys.history(caller_of(req), instance_id(req), page);
  json::array items;
  for (const auto& s : syncs) items.push_back(sync_json(s));
  return common::bare_page(std::move(items), total, page);
}

// The URLs a payload names its repository by (those present and strings).
std::vector<std::string> urls_of(const json::object& payload, std::string_view object,
                                 std::initializer_list<std::string_view> names) {
  std::vector<std::string> out;
  auto* holder = payload.if_contains(object);
  if (!holder || !holder->is_object()) return out;
  for (auto name : names)
    if (auto* v = holder->as_object().if_contains(name); v && v->is_string() && !v->as_string().empty())
      out.emplace_back(v->as_string());
  return out;
}

std::string ref_of(const json::object& payload) {
  auto* ref = payload.if_contains("ref");
  return ref && ref->is_string() ? std::string(ref->as_string()) : "";
}

common::Response answer(const WebhookOutcome& outcome, bool ping) {
  json::array triggered, skipped;
  for (const auto& [instance, sync] : outcome.triggered) triggered.push_back({{"instance_id", instance}, {"sync_id", sync}});
  for (const auto& s : outcome.skipped) skipped.push_back(json::string(s));
  return common::Response::json({{"ping", ping}, {"triggered", std::move(triggered)}, {"skipped", std::move(skipped)}},
                                outcome.triggered.empty() ? 200 : 202);
}

json::object payload_of(const common::Request& req) {
  boost::system::error_code ec;
  auto value = json::parse(req.body, ec);
  if (ec || !value.is_object()) throw common::ApiError::bad_request("the delivery's body is not a JSON object");
  return std::move(value.as_object());
}

// GitHub: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the raw body under the
// hook's secret; X-GitHub-Event push syncs, ping (and any other event) only answers.
common::Response github_webhook(GitDeployArea& area, common::Request& req) {
  auto signature = std::string(req.headers.get("X-Hub-Signature-256").value_or(""));
  if (!signature.starts_with("sha256=")) throw common::ApiError::unauthorized("missing X-Hub-Signature-256");
  auto payload = payload_of(req);
  auto event = req.headers.get("X-GitHub-Event").value_or("");
  WebhookPush push{"github",
                   urls_of(payload, "repository", {"clone_url", "ssh_url", "git_url", "html_url", "url"}),
                   ref_of(payload), event != "push",
                   [&](const std::string& secret) {
                     return security::constant_time_equal(signature, "sha256=" + security::hmac_sha256_hex(secret, req.body));
                   }};
  return answer(area.deploys.deliver(push), push.ping);
}

// GitLab: X-Gitlab-Token is the hook's secret itself; X-Gitlab-Event "Push Hook" syncs.
common::Response gitlab_webhook(GitDeployArea& area, common::Request& req) {
  auto token = std::string(req.headers.get("X-Gitlab-Token").value_or(""));
  if (token.empty()) throw common::ApiError::unauthorized("missing X-Gitlab-Token");
  auto payload = payload_of(req);
  auto urls = urls_of(payload, "project", {"git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url"});
  for (auto& u : urls_of(payload, "repository", {"git_http_url", "git_ssh_url", "url", "homepage"})) urls.push_back(u);
  WebhookPush push{"gitlab", std::move(urls), ref_of(payload),
                   req.headers.get("X-Gitlab-Event").value_or("") != "Push Hook",
                   [&](const std::string& secret) { return security::constant_time_equal(token, secret); }};
  return answer(area.deploys.deliver(push), push.ping);
}

}  // namespace

Routes git_deploy_routes(GitDeployArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  const Guard anyone{Auth::Public, OrgScope::None};
  const RouteOptions delivery{.fields = {"*"}, .body_limit = kWebhookBodyLimit};
  return join({
      group("/v1/instances/{id}/git", member,
            {
                get("", "instances.git", bind(area, show_config)),
                put("", "instances.git", bind(area, put_config),
                    {.fields = {"auth", "auto_sync", "branch", "credential", "post_sync", "post_sync_command",
                                "repository", "rotate_webhook_secret", "target_path", "timeout_s"}}),
                del("", "instances.git", bind(area, delete_config)),
                post("/sync", "instances.git", bind(area, start_sync)),
                get("/status", "instances.git", bind(area, sync_status)),
                get("/history", "instances.git", bind(area, sync_history), {.query = {"limit", "page", "per_page"}}),
            }),
      group("/v1/webhooks", anyone,
            {
                post("/github", "", bind(area, github_webhook), delivery),
                post("/gitlab", "", bind(area, gitlab_webhook), delivery),
            }),
  });
}

}  // namespace shardlyn
