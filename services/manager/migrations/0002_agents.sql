-- Registered agents and their heartbeat history.
CREATE TABLE agents (
  id             TEXT PRIMARY KEY,          -- ag-<12 hex>
  hostname       TEXT NOT NULL,
  os             TEXT NOT NULL,
  arch           TEXT NOT NULL,
  ip             TEXT,
  version        TEXT NOT NULL,
  machine_id     TEXT,
  endpoint       TEXT,
  tags           TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
  token_hash     TEXT NOT NULL,              -- SHA-256 hex of the agent's own token
  mode           TEXT,                       -- learning | protection, from heartbeats
  registered_at  INTEGER NOT NULL,           -- unix seconds
  last_heartbeat INTEGER NOT NULL            -- unix seconds; registration counts as a sign of life
) STRICT;
CREATE UNIQUE INDEX agents_by_machine ON agents (machine_id) WHERE machine_id IS NOT NULL;
CREATE INDEX agents_by_identity ON agents (hostname, os, arch);
CREATE INDEX agents_by_heartbeat ON agents (last_heartbeat);

CREATE TABLE agent_metrics (
  agent_id         TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  at               INTEGER NOT NULL,
  cpu_usage        REAL NOT NULL,
  mem_usage        REAL NOT NULL,
  active_monitors  INTEGER NOT NULL,
  threat_count     INTEGER NOT NULL,
  events_processed INTEGER NOT NULL,
  mode             TEXT NOT NULL,
  uptime           INTEGER NOT NULL
) STRICT;
CREATE INDEX agent_metrics_by_agent ON agent_metrics (agent_id, at);
