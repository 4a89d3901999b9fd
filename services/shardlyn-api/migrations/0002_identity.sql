-- Identity and access: accounts, organisations with members,
-- per-member permission overrides and invites, API tokens, and the audit trail. Times are unix
-- seconds (UTC); every secret is stored only as a digest.
CREATE TABLE users (
  id              TEXT PRIMARY KEY,                  -- UUID
  email           TEXT NOT NULL UNIQUE,              -- lower case
  name            TEXT NOT NULL,
  password_hash   TEXT NOT NULL,                     -- Argon2id PHC string; '' = OAuth-only account
  platform_admin  INTEGER NOT NULL DEFAULT 0 CHECK (platform_admin IN (0, 1)),
  suspended       INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
  github_id       TEXT UNIQUE,                       -- linked GitHub account
  failed_logins   INTEGER NOT NULL DEFAULT 0,        -- consecutive, reset by a good login
  locked_until    INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

-- Login sessions, TOTP, backup codes and mail tokens belong to libs/identity, which creates
-- them (libs/identity/migrations/); they were made here before it did.

CREATE TABLE organizations (
  id          TEXT PRIMARY KEY,                      -- UUID
  name        TEXT NOT NULL,
  created_by  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'user')),
  joined_at   INTEGER NOT NULL,
  PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX members_by_user ON members (user_id, joined_at);

-- Grants (granted = 1) and denials (granted = 0) on top of the member's role.
CREATE TABLE member_permissions (
  org_id      TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  permission  TEXT NOT NULL,
  granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
  PRIMARY KEY (org_id, user_id, permission),
  FOREIGN KEY (org_id, user_id) REFERENCES members (org_id, user_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE invites (
  id          TEXT PRIMARY KEY,                      -- UUID
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  token_hash  TEXT NOT NULL UNIQUE,                  -- SHA-256 hex of the invite token
  invited_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  accepted_at INTEGER,
  UNIQUE (org_id, email)
) STRICT;

-- shardlyn_api_<id>_<secret>: the id is public, the secret is kept as an HMAC under the
-- server's key. org_id NULL = a root token of a platform admin.
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  org_id        TEXT REFERENCES organizations (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  secret_hash   TEXT NOT NULL,
  last_four     TEXT NOT NULL,
  permissions   TEXT NOT NULL,                       -- JSON array of permission keys
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,                             -- NULL = never
  last_used_at  INTEGER,
  last_used_ip  TEXT,
  revoked_at    INTEGER
) STRICT;
CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created_at);

-- Security and administration events. org_id/user_id/actor_id are plain values so entries
-- outlive what they name; detail is a JSON object.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  at          INTEGER NOT NULL,
  action      TEXT NOT NULL,
  org_id      TEXT,
  user_id     TEXT,
  actor_id    TEXT,
  token_id    TEXT,
  ip          TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_by_action ON audit_log (action, seq);
CREATE INDEX audit_log_by_org ON audit_log (org_id, seq);
