-- The machines Shardlyn runs on (nodes/): one row per registered agent, the one-time tokens that
-- register them, and the metrics their heartbeats carry. Every row belongs to one organisation.
CREATE TABLE nodes (
  id                TEXT PRIMARY KEY,                      -- UUID
  org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  labels            TEXT NOT NULL DEFAULT '{}',            -- JSON object of string values
  hostname          TEXT NOT NULL,
  os                TEXT NOT NULL,
  arch              TEXT NOT NULL,
  cpu_count         INTEGER NOT NULL,
  memory_bytes      INTEGER NOT NULL,
  disk_bytes        INTEGER NOT NULL,
  agent_version     TEXT NOT NULL,
  drivers           TEXT NOT NULL,                         -- JSON array: "process", "docker"
  agent_token_hash  TEXT NOT NULL UNIQUE,                  -- HMAC-SHA256 of the agent token
  cordoned          INTEGER NOT NULL DEFAULT 0 CHECK (cordoned IN (0, 1)),
  drain_started_at  INTEGER,                               -- set by a drain, cleared by uncordon
  drain_deadline_at INTEGER,
  desired_version   INTEGER NOT NULL DEFAULT 0,            -- the API's; only grows
  applied_version   INTEGER NOT NULL DEFAULT 0,            -- what the agent last reported
  last_heartbeat_at INTEGER,
  last_metrics      TEXT,                                  -- JSON: the last heartbeat's metrics
  registered_at     INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX nodes_by_org ON nodes (org_id, registered_at);

-- One-time tokens for POST /v1/agent/register: only a digest is kept; used once, then spent.
CREATE TABLE node_register_tokens (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  token_hash  TEXT NOT NULL UNIQUE,                        -- HMAC-SHA256 of the token
  name        TEXT,                                        -- the node's name (else its hostname)
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  node_id     TEXT                                         -- the node it registered
) STRICT;

-- Heartbeat metrics: raw points (resolution 0) for a day, then 5-minute averages (300) for 30 days.
CREATE TABLE node_metrics (
  node_id       TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  at            INTEGER NOT NULL,
  resolution    INTEGER NOT NULL CHECK (resolution IN (0, 300)),
  cpu_usage     REAL NOT NULL,
  memory_used   INTEGER NOT NULL,
  memory_total  INTEGER NOT NULL,
  disk_used     INTEGER NOT NULL,
  disk_total    INTEGER NOT NULL,
  rx_bytes      INTEGER NOT NULL,
  tx_bytes      INTEGER NOT NULL,
  load_one      REAL NOT NULL
) STRICT;
CREATE INDEX node_metrics_by_node ON node_metrics (node_id, at);
