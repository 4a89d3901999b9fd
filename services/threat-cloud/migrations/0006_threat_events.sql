-- Threat events (community uploads and trap intelligence) and the campaigns the correlation
-- job (or an analyst) groups them into. Timestamps are RFC 3339 UTC text with whole seconds.
CREATE TABLE campaigns (
  id          TEXT PRIMARY KEY,  -- C-YYYYMMDD-<8 hex>
  name        TEXT NOT NULL,
  description TEXT,
  kind        TEXT NOT NULL CHECK (kind IN ('ip_cluster', 'pattern_cluster', 'manual')),
  status      TEXT NOT NULL CHECK (status IN ('active', 'dormant', 'resolved', 'false_positive')),
  severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  cluster_key TEXT,  -- ip_cluster: the source address; pattern_cluster: attack type + technique set
  first_seen  TEXT,
  last_seen   TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL
) STRICT;
CREATE INDEX campaigns_status ON campaigns (status, last_seen);
CREATE INDEX campaigns_cluster ON campaigns (kind, cluster_key);

CREATE TABLE threat_events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- order only, never exposed
  id           TEXT NOT NULL UNIQUE,
  event_hash   TEXT NOT NULL UNIQUE,  -- SHA-256 of the event as stored: duplicates are dropped
  origin       TEXT NOT NULL CHECK (origin IN ('upload', 'trap')),
  source_ip    TEXT NOT NULL,  -- canonical; /16 or /48 network address when anonymised
  anonymized   INTEGER NOT NULL,
  attack_type  TEXT NOT NULL,
  techniques   TEXT NOT NULL DEFAULT '[]',  -- JSON array, sorted, distinct
  sigma_rule   TEXT,
  severity     TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  region       TEXT NOT NULL,
  industry     TEXT,
  country      TEXT,  -- ISO 3166-1 alpha-2 from the IP ranges, NULL when unknown
  occurred_at  TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  reported_by  TEXT NOT NULL,  -- API key id, or 'anonymous'
  ioc_id       TEXT REFERENCES iocs (id) ON DELETE SET NULL,
  campaign_id  TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
  details      TEXT NOT NULL DEFAULT '{}'  -- trap reports: trap id, port, usernames, commands ...
) STRICT;
CREATE INDEX threat_events_occurred ON threat_events (occurred_at);
CREATE INDEX threat_events_source ON threat_events (source_ip, occurred_at);
CREATE INDEX threat_events_ioc ON threat_events (ioc_id, occurred_at);
CREATE INDEX threat_events_campaign ON threat_events (campaign_id, occurred_at);
CREATE INDEX threat_events_uncorrelated ON threat_events (source_ip, occurred_at) WHERE campaign_id IS NULL;
