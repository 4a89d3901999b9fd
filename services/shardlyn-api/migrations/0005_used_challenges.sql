-- MFA challenge tokens are single use: the id (jti) of each one that completed a login is kept
-- until the token would have expired anyway.
CREATE TABLE used_challenges (
  id          TEXT PRIMARY KEY,                      -- the challenge token's jti
  expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX used_challenges_by_expiry ON used_challenges (expires_at);
