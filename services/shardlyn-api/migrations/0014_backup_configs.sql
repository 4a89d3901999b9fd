-- S3-compatible backup storage per organisation (Backup Configuration Endpoints). The secret
-- access key is sealed with AES-256-GCM under the service's encryption key (the row id as
-- associated data) and never returned; at most one configuration per organisation is active.
CREATE TABLE backup_configs (
  id                TEXT PRIMARY KEY,
  org_id            TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  endpoint          TEXT NOT NULL,
  region            TEXT NOT NULL,
  bucket            TEXT NOT NULL,
  access_key_id     TEXT NOT NULL,
  secret_sealed     BLOB NOT NULL,
  path_style        INTEGER NOT NULL DEFAULT 0,
  part_size_mb      INTEGER NOT NULL DEFAULT 8,
  active            INTEGER NOT NULL DEFAULT 0,
  created_by        TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX backup_configs_org ON backup_configs(org_id, created_at);
CREATE UNIQUE INDEX backup_configs_one_active ON backup_configs(org_id) WHERE active = 1;
