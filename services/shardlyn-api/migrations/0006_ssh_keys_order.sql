-- GET /v1/settings lists an organisation's SSH keys oldest first on every call: read them in
-- that order from an index instead of sorting.
CREATE INDEX ssh_keys_by_org ON ssh_keys (org_id, created_at, name);
