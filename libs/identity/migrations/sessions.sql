-- Login sessions (identity/sessions.hpp): one refresh-token family each, rotated on every use.
-- Times are unix seconds (UTC); secrets are stored only as SHA-256 hex digests. users (id) is
-- the service's own table.
CREATE TABLE IF NOT EXISTS sessions (
  id            TEXT PRIMARY KEY,                    -- the JWT "sid"
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
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, revoked_at);

-- Refresh tokens already rotated away: presenting one again means it leaked.
CREATE TABLE IF NOT EXISTS retired_refresh_tokens (
  hash        TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  retired_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS retired_refresh_tokens_by_session ON retired_refresh_tokens (session_id);
