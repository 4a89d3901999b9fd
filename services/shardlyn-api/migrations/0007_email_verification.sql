-- Addresses are proven by a mailed link (or by GitHub, for accounts it created) before they can
-- invite others or be linked to a GitHub identity. Accounts made by the operator (platform
-- admins) and by GitHub count as verified; everyone else confirms once.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));
UPDATE users SET email_verified = 1 WHERE platform_admin = 1 OR (password_hash = '' AND github_id IS NOT NULL);
-- Forgot-password requests wait here for the background step that looks the address up, so the
-- answer does the same work whether an account uses the address or not.
CREATE TABLE reset_requests (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL,
  ip            TEXT NOT NULL,
  requested_at  INTEGER NOT NULL
) STRICT;
