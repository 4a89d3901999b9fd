-- TOTP two-factor authentication (RFC 6238, identity/totp_store.hpp) and single-use backup codes.
CREATE TABLE IF NOT EXISTS totp (
  user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_sealed  BLOB NOT NULL,                      -- AES-256-GCM under the service's TOTP key, aad = user id
  enabled        INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),  -- 0 while setup awaits a code
  last_step      INTEGER NOT NULL DEFAULT -1,        -- newest accepted time step: no code works twice
  created_at     INTEGER NOT NULL,
  enabled_at     INTEGER
) STRICT;

CREATE TABLE IF NOT EXISTS backup_codes (
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,                          -- HMAC-SHA256 under a key derived from the TOTP key
  used_at    INTEGER,
  PRIMARY KEY (user_id, code_hash)
) STRICT;
