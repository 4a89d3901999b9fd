-- PostgreSQL schema, the same as migrations/0004_policies.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Policies: every publication is a new version; fleet-wide versions form the history, agent
-- overrides point one agent at a version of its own.
CREATE TABLE policies (
  version     BIGINT PRIMARY KEY,          -- increases with every publication
  id          TEXT COLLATE "C" NOT NULL UNIQUE,         -- pol-<8 hex>
  scope       TEXT COLLATE "C" NOT NULL,                -- fleet | agent
  name        TEXT COLLATE "C" NOT NULL,
  description TEXT COLLATE "C",
  rules       TEXT COLLATE "C" NOT NULL,                -- JSON array of validated rules
  created_at  BIGINT NOT NULL
);
CREATE INDEX policies_by_scope ON policies (scope, version);

CREATE TABLE agent_policies (
  agent_id TEXT COLLATE "C" PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  version  BIGINT NOT NULL REFERENCES policies (version)
);
