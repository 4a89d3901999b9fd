-- Accounts and the audit trail. Times are unix seconds (UTC).
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

-- Sessions, retired refresh tokens and mail tokens were created here until libs/identity took
-- them over (libs/identity/migrations/); databases made before then keep the tables as they are.

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
