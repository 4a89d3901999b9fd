-- Organisation settings with provisioning SSH keys, webhook tokens, support messages, plans and
-- subscriptions (one per organisation), and platform-wide settings (log level).
CREATE TABLE org_settings (
  org_id      TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  settings    TEXT NOT NULL DEFAULT '{}',            -- JSON object of the documented keys
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE ssh_keys (
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  public_key  TEXT NOT NULL,
  fingerprint TEXT NOT NULL,                          -- SHA256:<base64>
  is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (org_id, name)
) STRICT;

-- Tokens that authenticate inbound webhooks (X-Gitlab-Token and the like); only a digest is kept.
CREATE TABLE webhook_tokens (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  token_hash  TEXT NOT NULL UNIQUE,
  last_four   TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
) STRICT;

CREATE TABLE support_messages (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL,
  email       TEXT NOT NULL,
  subject     TEXT NOT NULL,
  message     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE plans (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  price_cents      INTEGER NOT NULL CHECK (price_cents >= 0),
  currency         TEXT NOT NULL,
  max_nodes        INTEGER NOT NULL,
  max_instances    INTEGER NOT NULL,
  max_memory_mb    INTEGER NOT NULL,
  active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
INSERT INTO plans (id, name, price_cents, currency, max_nodes, max_instances, max_memory_mb, created_at, updated_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'free', 0, 'usd', 1, 3, 4096, unixepoch(), unixepoch());

CREATE TABLE subscriptions (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL UNIQUE REFERENCES organizations (id) ON DELETE CASCADE,
  plan_id     TEXT NOT NULL REFERENCES plans (id),
  status      TEXT NOT NULL CHECK (status IN ('active', 'trialing', 'past_due', 'canceled')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE platform_settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;
