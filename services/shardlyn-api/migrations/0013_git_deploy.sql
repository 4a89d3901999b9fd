-- Git deploy (decision 0038): one configuration per instance and its syncs. The credential
-- (token or SSH private key) and the webhook secret are sealed with AES-256-GCM under a key
-- derived from SHARDLYN_ENCRYPTION_KEY (base64 text, the instance id as associated data); the
-- API never returns the credential. At most one sync of an instance runs at a time (the
-- partial unique index); a sync the API was running when it stopped is failed at start.
CREATE TABLE git_configs (
  instance_id     TEXT PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
  org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository      TEXT NOT NULL,
  repository_key  TEXT NOT NULL,   -- the URL as webhooks match it (no scheme, user, .git)
  branch          TEXT NOT NULL,
  target_path     TEXT NOT NULL DEFAULT '',
  auth            TEXT NOT NULL CHECK (auth IN ('none', 'token', 'ssh_key')),
  credential      TEXT,            -- sealed; NULL for auth none
  auto_sync       INTEGER NOT NULL DEFAULT 1,
  webhook_secret  TEXT NOT NULL,   -- sealed
  post_sync       TEXT NOT NULL CHECK (post_sync IN ('none', 'restart', 'command')),
  post_command    TEXT NOT NULL DEFAULT '',
  timeout_s       INTEGER NOT NULL DEFAULT 300,
  created_by      TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX git_configs_repository ON git_configs (repository_key);

CREATE TABLE git_syncs (
  id           TEXT PRIMARY KEY,
  instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  state        TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
  trigger      TEXT NOT NULL CHECK (trigger IN ('manual', 'github', 'gitlab')),
  actor        TEXT NOT NULL DEFAULT '',
  commit_sha   TEXT,
  output       TEXT NOT NULL DEFAULT '',
  error        TEXT NOT NULL DEFAULT '',
  post_sync    TEXT NOT NULL DEFAULT 'none',
  post_result  TEXT NOT NULL DEFAULT '',
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER
) STRICT;
CREATE UNIQUE INDEX git_syncs_one_running ON git_syncs (instance_id) WHERE state = 'running';
CREATE INDEX git_syncs_instance ON git_syncs (instance_id, started_at DESC);
