-- Addresses are proven by a mailed link (or by GitHub, for accounts it created) before they can
-- invite others or be linked to a GitHub identity. Accounts made by the operator (platform
-- admins) and by GitHub count as verified; everyone else confirms once.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));
UPDATE users SET email_verified = 1 WHERE platform_admin = 1 OR (password_hash = '' AND github_id IS NOT NULL);
-- The reset_requests table once created here is libs/identity's (reset_requests.sql).
