-- Consent records (GDPR): the accepted terms version and the marketing opt-in, each with the
-- time it was given or changed. Changes are also audit entries.
CREATE TABLE consents (
  user_id               TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  terms_version         TEXT,
  terms_accepted_at     INTEGER,
  marketing             INTEGER NOT NULL DEFAULT 0 CHECK (marketing IN (0, 1)),
  marketing_updated_at  INTEGER
) STRICT;
