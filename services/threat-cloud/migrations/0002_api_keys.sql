-- Scoped API keys created by admins. Only a keyed digest of the secret is stored; the key
-- (<id>.<secret>) is shown once at creation. Revoked keys stay for the audit trail.
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  scopes        TEXT NOT NULL,  -- comma list of read, write, admin
  secret_digest TEXT NOT NULL,  -- HMAC-SHA256 of the secret under service_meta.api_key_pepper
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  expires_at    TEXT,
  revoked_at    TEXT
) STRICT;
CREATE INDEX api_keys_created ON api_keys (created_at);
