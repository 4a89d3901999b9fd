#include "gitdeploy/git_deploy.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "admin/audit.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "security/aead.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"
#include "store/time.hpp"

namespace shardlyn {

namespace json = boost::json;
using agentproto::GitAuth;

namespace {

constexpr const char* kConfigColumns =
    "instance_id, org_id, repository, branch, target_path, auth, credential IS NOT NULL, auto_sync, post_sync, "
    "post_command, timeout_s, created_at, updated_at";
constexpr const char* kSyncColumns =
    "id, instance_id, state, trigger, actor, commit_sha, output, error, post_sync, post_result, started_at, finished_at";
constexpr std::size_t kErrorChars = 2000;

GitAuth auth_from(const std::string& name) {
  return name == "token" ? GitAuth::Token : name == "ssh_key" ? GitAuth::SshKey : GitAuth::None;
}

PostSync post_sync_from(const std::string& name) {
  return name == "restart" ? PostSync::Restart : name == "command" ? PostSync::Command : PostSync::None;
}

GitConfig config_row(store::Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), auth_from(q.text(5)), q.int64(6) != 0,
          q.int64(7) != 0, post_sync_from(q.text(8)), q.text(9), static_cast<std::uint32_t>(q.int64(10)),
          q.int64(11), q.int64(12)};
}

GitSyncRecord sync_row(store::Statement& q) {
  return {q.text(0),  q.text(1), q.text(2), q.text(3), q.text(4), q.text_or_null(5),
          q.text(6),  q.text(7), q.text(8), q.text(9), q.int64(10), q.int64_or_null(11)};
}

std::optional<GitConfig> find_config(store::Connection& db, const std::string& org_id, const std::string& instance_id) {
  auto q = db.prepare(std::string("SELECT ") + kConfigColumns + " FROM git_configs WHERE org_id = ? AND instance_id = ?");
  q->bind_all(org_id, instance_id);
  if (!q->step()) return std::nullopt;
  return config_row(*q);
}

GitConfig require_config(store::Connection& db, const std::string& org_id, const std::string& instance_id) {
  auto config = find_config(db, org_id, instance_id);
  if (!config) throw common::ApiError::not_found("instance " + instance_id + " has no git configuration");
  return *config;
}

std::string clip(std::string text, std::size_t max) {
  if (text.size() > max) text.resize(max);
  return text;
}

}  // namespace

const char* to_string(PostSync action) {
  switch (action) {
    case PostSync::Restart: return "restart";
    case PostSync::Command: return "command";
    default: return "none";
  }
}

std::string repository_key(std::string_view url) {
  std::string s(url);
  bool scheme = false;
  if (auto p = s.find("://"); p != std::string::npos) {
    s.erase(0, p + 3);
    scheme = true;
  }
  auto slash = s.find('/');
  if (auto at = s.find('@'); at != std::string::npos && at < slash) s.erase(0, at + 1);
  slash = s.find('/');
  if (auto colon = s.find(':'); !scheme && colon != std::string::npos && colon < slash) s[colon] = '/';
  while (s.ends_with('/')) s.pop_back();
  if (s.ends_with(".git")) s.resize(s.size() - 4);
  slash = std::min(s.find('/'), s.size());
  std::transform(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(slash), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

GitDeploys::GitDeploys(store::Database& db, InstanceControl& instances, ConsoleFeeds& consoles, TunnelHub& hub,
                       const std::string& key32)
    : db_(db),
      instances_(instances),
      consoles_(consoles),
      hub_(hub),
      key_(security::hmac_sha256(key32, "shardlyn git deploy secrets")) {
  // A sync the API was waiting for when it stopped has no one to record its end.
  auto failed = db_.write([](store::Connection& c) {
    return c.execute("UPDATE git_syncs SET state = 'failed', error = 'interrupted: the API stopped during the sync', "
                     "finished_at = ? WHERE state = 'running'",
                     store::unix_now());
  });
  if (failed) common::log::info("git syncs interrupted by a restart marked failed", {{"count", failed}});
}

std::string GitDeploys::seal(const std::string& instance_id, std::string_view what, const std::string& plain) const {
  return security::base64_encode(security::aead_seal(key_, plain, instance_id + "/" + std::string(what)));
}

std::string GitDeploys::open(const std::string& instance_id, std::string_view what, const std::string& sealed) const {
  auto bytes = security::base64_decode(sealed);
  auto plain = bytes ? security::aead_open(key_, *bytes, instance_id + "/" + std::string(what)) : std::nullopt;
  if (!plain) throw common::ApiError(500, "a sealed git secret does not open under SHARDLYN_ENCRYPTION_KEY");
  return *plain;
}

InstanceRef GitDeploys::instance(const Caller& caller, const std::string& instance_id) const {
  auto found = instances_.find(caller.org_id, instance_id);
  if (!found) throw common::ApiError::not_found("instance not found");
  return *found;
}

GitConfig GitDeploys::get(const Caller& caller, const std::string& instance_id) const {
  instance(caller, instance_id);
  return db_.read([&](store::Connection& db) { return require_config(db, caller.org_id, instance_id); });
}

SavedGitConfig GitDeploys::put(const Caller& caller, const std::string& instance_id, const GitConfigInput& in) {
  instance(caller, instance_id);
  auto now = store::unix_now();
  auto saved = db_.write([&](store::Connection& db) {
    SavedGitConfig out;
    auto old = find_config(db, caller.org_id, instance_id);
    out.created = !old;
    std::optional<std::string> credential;
    if (in.auth != GitAuth::None) {
      if (in.credential) credential = seal(instance_id, "credential", *in.credential);
      else if (old && old->auth == in.auth && old->credential_set)
        credential = db.query_text("SELECT credential FROM git_configs WHERE instance_id = ?", instance_id);
      else
        throw common::ApiError::validation(std::string("'credential': required for auth ") + agentproto::to_string(in.auth));
    }
    if (!old || in.rotate_secret) out.webhook_secret = "shardlyn_git_" + security::random_token(32);
    auto secret = out.webhook_secret
                      ? seal(instance_id, "webhook", *out.webhook_secret)
                      : *db.query_text("SELECT webhook_secret FROM git_configs WHERE instance_id = ?", instance_id);
    db.execute("INSERT INTO git_configs (instance_id, org_id, repository, repository_key, branch, target_path, auth, "
               "credential, auto_sync, webhook_secret, post_sync, post_command, timeout_s, created_by, created_at, "
               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE "
               "SET repository = excluded.repository, repository_key = excluded.repository_key, branch = excluded.branch, "
               "target_path = excluded.target_path, auth = excluded.auth, credential = excluded.credential, "
               "auto_sync = excluded.auto_sync, webhook_secret = excluded.webhook_secret, post_sync = excluded.post_sync, "
               "post_command = excluded.post_command, timeout_s = excluded.timeout_s, updated_at = excluded.updated_at",
               instance_id, caller.org_id, in.repository, repository_key(in.repository), in.branch, in.target,
               agentproto::to_string(in.auth), credential, in.auto_sync, secret, to_string(in.post_sync),
               in.post_command, static_cast<std::int64_t>(in.timeout_s), caller.user_id, now, now);
    audit::record(db, out.created ? "instance.git.created" : "instance.git.updated", caller.actor(), caller.org_id, {},
                  {{"instance_id", instance_id}, {"repository", in.repository}, {"branch", in.branch},
                   {"webhook_secret_rotated", out.webhook_secret.has_value()}});
    out.config = require_config(db, caller.org_id, instance_id);
    return out;
  });
  return saved;
}

void GitDeploys::remove(const Caller& caller, const std::string& instance_id) {
  instance(caller, instance_id);
  db_.write([&](store::Connection& db) {
    require_config(db, caller.org_id, instance_id);
    if (db.query_int("SELECT 1 FROM git_syncs WHERE instance_id = ? AND state = 'running'", instance_id))
      throw common::ApiError::conflict("a git sync of this instance is running");
    db.execute("DELETE FROM git_configs WHERE instance_id = ?", instance_id);
    db.execute("DELETE FROM git_syncs WHERE instance_id = ?", instance_id);
    audit::record(db, "instance.git.deleted", caller.actor(), caller.org_id, {}, {{"instance_id", instance_id}});
  });
}

GitSyncRecord GitDeploys::sync(const Caller& caller, const std::string& instance_id) {
  auto ref = instance(caller, instance_id);
  return start(ref, "manual", caller.user_id.empty() ? caller.token_id : caller.user_id);
}

// Records the sync as running (one per instance: the partial unique index), then asks the
// node's agent; the answer comes to finish() from the tunnel's thread or the hub's timer.
GitSyncRecord GitDeploys::start(const InstanceRef& ref, const std::string& trigger, const std::string& actor) {
  if (!hub_.connected(ref.node_id))
    throw tunnel_api_error(tunnel_codes::kNodeOffline, "node " + ref.node_id + " of the instance has no tunnel from its agent");
  agentproto::TunnelRequest request;
  request.kind = agentproto::RequestKind::GitSync;
  Job job{security::uuid_v4(), ref.org_id, ref.instance_id, ref.node_id, PostSync::None, ""};
  auto record = db_.write([&](store::Connection& db) {
    auto config = require_config(db, ref.org_id, ref.instance_id);
    if (db.query_int("SELECT 1 FROM git_syncs WHERE instance_id = ? AND state = 'running'", ref.instance_id))
      throw common::ApiError::conflict("a git sync of this instance is running");
    agentproto::GitSyncSpec spec{ref.instance_id, config.repository, config.branch, config.target, config.auth, "",
                                 config.timeout_s};
    if (config.auth != GitAuth::None)
      spec.secret = open(ref.instance_id, "credential",
                         *db.query_text("SELECT credential FROM git_configs WHERE instance_id = ?", ref.instance_id));
    request.git = std::move(spec);
    job.post_sync = config.post_sync;
    job.post_command = config.post_command;
    auto now = store::unix_now();
    db.execute("INSERT INTO git_syncs (id, instance_id, state, trigger, actor, post_sync, started_at) "
               "VALUES (?, ?, 'running', ?, ?, ?, ?)",
               job.sync_id, ref.instance_id, trigger, actor, to_string(config.post_sync), now);
    db.execute("DELETE FROM git_syncs WHERE instance_id = ? AND id NOT IN (SELECT id FROM git_syncs WHERE "
               "instance_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?)",
               ref.instance_id, ref.instance_id, static_cast<std::int64_t>(kHistoryKept));
    return GitSyncRecord{job.sync_id, ref.instance_id, "running", trigger, actor, std::nullopt, "", "",
                         to_string(config.post_sync), "", now, std::nullopt};
  });
  auto timeout = std::chrono::seconds(request.git->timeout_s) + std::chrono::seconds(15);
  hub_.request(ref.node_id, std::move(request), timeout,
               [this, job](agentproto::TunnelResponse response) { finish(job, std::move(response)); });
  return record;
}

void GitDeploys::finish(const Job& job, agentproto::TunnelResponse response) {
  std::optional<std::string> commit;
  std::string output, error, post_result;
  if (response.body) {
    const auto& body = *response.body;
    if (auto* c = body.if_contains("commit"); c && c->is_string()) commit = std::string(c->as_string());
    if (auto* o = body.if_contains("output"); o && o->is_string()) output = std::string(o->as_string());
    post_result = post_action(job);
  } else {
    error = clip(response.error_code + ": " + response.error_message, kErrorChars);
  }
  db_.write([&](store::Connection& db) {
    db.execute("UPDATE git_syncs SET state = ?, commit_sha = ?, output = ?, error = ?, post_result = ?, finished_at = ? "
               "WHERE id = ?",
               commit ? "succeeded" : "failed", commit, output, error, post_result, store::unix_now(), job.sync_id);
  });
  common::log::info("git sync finished", {{"instance", job.instance_id}, {"sync", job.sync_id},
                                          {"commit", commit.value_or("")}, {"error", error}});
}

// The post-sync action, as the instance's own routes would do it; what happened, in words.
std::string GitDeploys::post_action(const Job& job) {
  try {
    if (job.post_sync == PostSync::Restart) {
      instances_.power(job.org_id, job.instance_id, PowerAction::Restart, "git deploy");
      return "restarted";
    }
    if (job.post_sync == PostSync::Command) {
      auto ref = instances_.find(job.org_id, job.instance_id);
      if (!ref) return "failed: the instance is gone";
      consoles_.send_command(*ref, job.post_command);
      return "command sent";
    }
    return "";
  } catch (const std::exception& e) {
    return clip(std::string("failed: ") + e.what(), kErrorChars);
  }
}

std::optional<GitSyncRecord> GitDeploys::status(const Caller& caller, const std::string& instance_id) const {
  instance(caller, instance_id);
  return db_.read([&](store::Connection& db) -> std::optional<GitSyncRecord> {
    require_config(db, caller.org_id, instance_id);
    auto q = db.prepare(std::string("SELECT ") + kSyncColumns +
                        " FROM git_syncs WHERE instance_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1");
    q->bind_all(instance_id);
    if (!q->step()) return std::nullopt;
    return sync_row(*q);
  });
}

std::pair<std::vector<GitSyncRecord>, std::int64_t> GitDeploys::history(const Caller& caller,
                                                                        const std::string& instance_id,
                                                                        const common::PageRequest& page) const {
  instance(caller, instance_id);
  return db_.read([&](store::Connection& db) {
    require_config(db, caller.org_id, instance_id);
    auto total = db.query_int("SELECT COUNT(*) FROM git_syncs WHERE instance_id = ?", instance_id).value_or(0);
    auto q = db.prepare(std::string("SELECT ") + kSyncColumns +
                        " FROM git_syncs WHERE instance_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ? OFFSET ?");
    q->bind_all(instance_id, page.limit, page.offset());
    std::vector<GitSyncRecord> out;
    while (q->step()) out.push_back(sync_row(*q));
    return std::make_pair(std::move(out), total);
  });
}

WebhookOutcome GitDeploys::deliver(const WebhookPush& push) {
  struct Candidate {
    std::string instance_id, org_id, branch;
    bool auto_sync;
  };
  std::vector<Candidate> signed_for;
  db_.read([&](store::Connection& db) {
    for (const auto& url : push.repositories) {
      auto q = db.prepare("SELECT instance_id, org_id, branch, auto_sync, webhook_secret FROM git_configs "
                          "WHERE repository_key = ?");
      q->bind_all(repository_key(url));
      while (q->step()) {
        Candidate c{q->text(0), q->text(1), q->text(2), q->int64(3) != 0};
        bool seen = std::any_of(signed_for.begin(), signed_for.end(),
                                [&](const Candidate& s) { return s.instance_id == c.instance_id; });
        if (!seen && push.signed_with(open(c.instance_id, "webhook", q->text(4)))) signed_for.push_back(std::move(c));
      }
    }
  });
  if (signed_for.empty())
    throw common::ApiError::unauthorized("the delivery is not signed with the secret of a git configuration of its repository");
  WebhookOutcome out;
  if (push.ping) return out;
  for (const auto& c : signed_for) {
    if (!c.auto_sync) {
      out.skipped.push_back(c.instance_id + ": auto_sync is off");
    } else if (push.ref != "refs/heads/" + c.branch) {
      out.skipped.push_back(c.instance_id + ": the push is not to " + c.branch);
    } else if (auto ref = instances_.find(c.org_id, c.instance_id); !ref) {
      out.skipped.push_back(c.instance_id + ": the instance is gone");
    } else {
      try {
        out.triggered.emplace_back(c.instance_id, start(*ref, push.provider, push.provider + " webhook").id);
      } catch (const common::ApiError& e) {
        out.skipped.push_back(c.instance_id + ": " + e.what());
      }
    }
  }
  return out;
}

}  // namespace shardlyn
