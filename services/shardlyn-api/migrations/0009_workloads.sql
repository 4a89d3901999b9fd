-- Workloads: an organisation's shardlyn/v1 specs (written, imported from an egg, or made from a
-- template), stored as the canonical JSON document that the export and the agent's resolved
-- workload are made from.
CREATE TABLE workloads (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,                      -- metadata.name
  spec        TEXT NOT NULL,                      -- the shardlyn/v1 document, canonical JSON
  source      TEXT NOT NULL,                      -- spec | egg:<format> | template:<id>
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (org_id, name)
) STRICT;
