-- Accounts, login sessions with rotating refresh tokens, one-time mail tokens and the audit
-- trail. Times are unix seconds (UTC); secrets are stored only as SHA-256 hex digests.
CREATE TABLE users (
  id              TEXT PRIMARY KEY,                  -- "usr_" + random hex
  email           TEXT NOT NULL UNIQUE,              -- lower case
  name            TEXT NOT NULL,
  password_hash   TEXT NOT NULL,                     -- Argon2id PHC string
  role            TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  tier            TEXT NOT NULL DEFAULT 'community'
                  CHECK (tier IN ('community', 'solo', 'pro', 'business', 'enterprise')),
  email_verified  INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
  suspended       INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
  failed_logins   INTEGER NOT NULL DEFAULT 0,        -- consecutive, reset by a good login
  locked_until    INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,                    -- "ses_" + random hex; the JWT "sid"
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  refresh_hash  TEXT NOT NULL UNIQUE,                -- SHA-256 hex of the current refresh token
  ip            TEXT NOT NULL,
  user_agent    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER,                             -- NULL while live
  revoke_reason TEXT
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, revoked_at);

-- Refresh tokens already rotated away: presenting one again means it leaked.
CREATE TABLE retired_refresh_tokens (
  hash        TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  retired_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX retired_refresh_tokens_by_session ON retired_refresh_tokens (session_id);

-- Single-use tokens sent by mail (email verification, later password reset).
CREATE TABLE mail_tokens (
  hash        TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;
CREATE INDEX mail_tokens_by_user ON mail_tokens (user_id, purpose);

-- Security events. user_id (whose account) and actor_id (who did it: the user, an admin, or
-- NULL when unknown) are plain values, no foreign keys, so entries outlive accounts; detail is
-- a JSON object.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,                  -- "aud_" + random hex
  at          INTEGER NOT NULL,
  action      TEXT NOT NULL,
  user_id     TEXT,
  actor_id    TEXT,
  ip          TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_by_user ON audit_log (user_id, at);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE INDEX audit_log_by_action ON audit_log (action, at);
