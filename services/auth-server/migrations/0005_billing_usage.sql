-- Subscriptions with the billing provider, the provider events already applied (webhooks are
-- idempotent by event id) and usage meters. Times are unix seconds (UTC).
CREATE TABLE subscriptions (
  id                    TEXT PRIMARY KEY,            -- the provider's subscription id
  user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tier                  TEXT NOT NULL CHECK (tier IN ('solo', 'pro', 'business', 'enterprise')),
  status                TEXT NOT NULL
                        CHECK (status IN ('active', 'past_due', 'cancelled', 'expired', 'paused')),
  current_period_end    INTEGER,                     -- paid until; NULL when the provider did not say
  cancel_at_period_end  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_by_user ON subscriptions (user_id, updated_at);

-- One row per provider event received with a valid signature. After an account is erased its
-- events stay (so a replay still changes nothing) with the links to the person cleared.
CREATE TABLE billing_events (
  id               TEXT PRIMARY KEY,                 -- the provider's event id
  type             TEXT NOT NULL,
  subscription_id  TEXT,
  user_id          TEXT,
  applied          INTEGER NOT NULL CHECK (applied IN (0, 1)),
  received_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX billing_events_by_user ON billing_events (user_id);

-- Usage reported by other services (and kept per UTC day for daily meters; period '' for
-- gauges such as enrolled endpoints, which hold the latest reported value).
CREATE TABLE usage_counters (
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  meter       TEXT NOT NULL,
  period      TEXT NOT NULL,                         -- "YYYY-MM-DD" or '' for gauges
  value       INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, meter, period)
) STRICT;
