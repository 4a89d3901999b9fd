-- PostgreSQL schema, the same as migrations/0003_threats.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Threat events reported by agents, and the correlation links between them.
CREATE TABLE threats (
  id                TEXT COLLATE "C" PRIMARY KEY,        -- th-<12 hex>
  agent_id          TEXT COLLATE "C" NOT NULL,           -- kept after the agent is deregistered
  event_id          TEXT COLLATE "C" NOT NULL,           -- the agent's SecurityEvent.id (idempotent retries)
  occurred_at       BIGINT NOT NULL,        -- event timestamp, unix seconds
  received_at       BIGINT NOT NULL,
  source            TEXT COLLATE "C" NOT NULL,
  severity          TEXT COLLATE "C" NOT NULL,           -- current: raised to critical when widespread
  original_severity TEXT COLLATE "C" NOT NULL,
  category          TEXT COLLATE "C" NOT NULL,
  description       TEXT COLLATE "C" NOT NULL,
  raw               TEXT COLLATE "C",
  host              TEXT COLLATE "C",
  metadata          TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  conclusion        TEXT COLLATE "C" NOT NULL,           -- benign | suspicious | malicious
  confidence        BIGINT NOT NULL,
  action            TEXT COLLATE "C",
  source_ip         TEXT COLLATE "C",                    -- read from metadata for correlation
  file_hash         TEXT COLLATE "C",
  UNIQUE (agent_id, event_id)
);
CREATE INDEX threats_by_received ON threats (received_at);
CREATE INDEX threats_by_occurred ON threats (occurred_at);
CREATE INDEX threats_by_ip ON threats (source_ip, occurred_at) WHERE source_ip IS NOT NULL;
CREATE INDEX threats_by_hash ON threats (file_hash, occurred_at) WHERE file_hash IS NOT NULL;

CREATE TABLE threat_links (
  threat_id  TEXT COLLATE "C" NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
  related_id TEXT COLLATE "C" NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
  reason     TEXT COLLATE "C" NOT NULL,                  -- source_ip | file_hash
  PRIMARY KEY (threat_id, related_id)
);
CREATE INDEX threat_links_by_related ON threat_links (related_id);
