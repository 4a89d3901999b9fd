-- Policies: every publication is a new version; fleet-wide versions form the history, agent
-- overrides point one agent at a version of its own.
CREATE TABLE policies (
  version     INTEGER PRIMARY KEY,          -- increases with every publication
  id          TEXT NOT NULL UNIQUE,         -- pol-<8 hex>
  scope       TEXT NOT NULL,                -- fleet | agent
  name        TEXT NOT NULL,
  description TEXT,
  rules       TEXT NOT NULL,                -- JSON array of validated rules
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX policies_by_scope ON policies (scope, version);

CREATE TABLE agent_policies (
  agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  version  INTEGER NOT NULL REFERENCES policies (version)
) STRICT;
