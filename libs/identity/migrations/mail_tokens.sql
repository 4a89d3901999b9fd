-- Single-use tokens sent by mail (identity/mail_tokens.hpp): address verification, password reset.
CREATE TABLE IF NOT EXISTS mail_tokens (
  hash        TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     TEXT NOT NULL,                         -- the caller's word: 'verify_email', 'reset_password' ...
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS mail_tokens_by_user ON mail_tokens (user_id, purpose);
