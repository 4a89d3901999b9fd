-- Threat events reported by agents, and the correlation links between them.
CREATE TABLE threats (
  id                TEXT PRIMARY KEY,        -- th-<12 hex>
  agent_id          TEXT NOT NULL,           -- kept after the agent is deregistered
  event_id          TEXT NOT NULL,           -- the agent's SecurityEvent.id (idempotent retries)
  occurred_at       INTEGER NOT NULL,        -- event timestamp, unix seconds
  received_at       INTEGER NOT NULL,
  source            TEXT NOT NULL,
  severity          TEXT NOT NULL,           -- current: raised to critical when widespread
  original_severity TEXT NOT NULL,
  category          TEXT NOT NULL,
  description       TEXT NOT NULL,
  raw               TEXT,
  host              TEXT,
  metadata          TEXT NOT NULL DEFAULT '{}',
  conclusion        TEXT NOT NULL,           -- benign | suspicious | malicious
  confidence        INTEGER NOT NULL,
  action            TEXT,
  source_ip         TEXT,                    -- read from metadata for correlation
  file_hash         TEXT,
  UNIQUE (agent_id, event_id)
) STRICT;
CREATE INDEX threats_by_received ON threats (received_at);
CREATE INDEX threats_by_occurred ON threats (occurred_at);
CREATE INDEX threats_by_ip ON threats (source_ip, occurred_at) WHERE source_ip IS NOT NULL;
CREATE INDEX threats_by_hash ON threats (file_hash, occurred_at) WHERE file_hash IS NOT NULL;

CREATE TABLE threat_links (
  threat_id  TEXT NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
  related_id TEXT NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
  reason     TEXT NOT NULL,                  -- source_ip | file_hash
  PRIMARY KEY (threat_id, related_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX threat_links_by_related ON threat_links (related_id);
