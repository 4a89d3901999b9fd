-- One-click deployments (decision 0040): a template made into a workload and an instance on
-- the best node, started. The status is not stored: it follows the instance's state.
CREATE TABLE deployments (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  template_id  TEXT NOT NULL,
  name         TEXT NOT NULL,
  workload_id  TEXT NOT NULL,
  instance_id  TEXT NOT NULL,
  node_id      TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);
CREATE INDEX deployments_org ON deployments (org_id, created_at);
