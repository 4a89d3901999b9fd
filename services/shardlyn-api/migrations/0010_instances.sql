-- Instances of workloads on nodes: the desired power state with the restart and kill
-- generations the agent acts on (decision 0027), the state the agent last reported, every
-- transition with its time and reason, crash records, and the stats history (raw points for
-- 24 hours, 5-minute points for 30 days). node_id names a node of nodes/ (no foreign key: a
-- folder reads another's rows only through the seams).
CREATE TABLE instances (
  id                  TEXT PRIMARY KEY,
  org_id              TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workload_id         TEXT NOT NULL REFERENCES workloads (id),
  node_id             TEXT NOT NULL,
  name                TEXT NOT NULL,
  variables           TEXT NOT NULL DEFAULT '{}',   -- JSON object ENV -> value
  resources           TEXT,                         -- JSON spec.resources override, NULL: the workload's
  req_cpu_millis      INTEGER NOT NULL DEFAULT 0,   -- what placement packed
  req_memory_bytes    INTEGER NOT NULL DEFAULT 0,
  req_disk_bytes      INTEGER NOT NULL DEFAULT 0,
  state               TEXT NOT NULL,
  state_reason        TEXT NOT NULL DEFAULT '',
  state_at            INTEGER NOT NULL,
  desired_power       TEXT NOT NULL CHECK (desired_power IN ('running', 'stopped', 'deleted')),
  restart_generation  INTEGER NOT NULL DEFAULT 0,
  kill_generation     INTEGER NOT NULL DEFAULT 0,
  exit_code           INTEGER,
  stats               TEXT,                         -- JSON of the last reported stats
  stats_at            INTEGER,
  install_output      TEXT NOT NULL DEFAULT '[]',   -- JSON array: the last install lines
  install_succeeded   INTEGER,
  created_by          TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  UNIQUE (org_id, name)
) STRICT;
CREATE INDEX instances_node ON instances (node_id);
CREATE INDEX instances_workload ON instances (workload_id);

CREATE TABLE instance_transitions (
  id           INTEGER PRIMARY KEY,
  instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  from_state   TEXT,
  to_state     TEXT NOT NULL,
  reason       TEXT NOT NULL,
  actor        TEXT NOT NULL,                       -- "agent", or the user or token that asked
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX instance_transitions_instance ON instance_transitions (instance_id, id);

CREATE TABLE instance_crashes (
  id           INTEGER PRIMARY KEY,
  instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  exit_code    INTEGER,
  oom_killed   INTEGER NOT NULL CHECK (oom_killed IN (0, 1)),
  reason       TEXT NOT NULL,
  last_lines   TEXT NOT NULL,                       -- JSON array, at most 50 lines
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX instance_crashes_instance ON instance_crashes (instance_id, id);

CREATE TABLE instance_metrics (
  instance_id   TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  resolution    INTEGER NOT NULL,                   -- 0: raw, 300: 5-minute point
  at            INTEGER NOT NULL,
  cpu_seconds   REAL NOT NULL,
  memory_bytes  INTEGER NOT NULL,
  pids          INTEGER NOT NULL,
  rx_bytes      INTEGER NOT NULL,
  tx_bytes      INTEGER NOT NULL,
  uptime_ms     INTEGER NOT NULL,
  PRIMARY KEY (instance_id, resolution, at)
) STRICT, WITHOUT ROWID;
