-- Who changed what: key management and IoC writes, recorded in the same transaction as the
-- change. IPs are stored anonymised (IPv4 /24, IPv6 /48); API secrets are never stored.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- order only, never exposed
  id          TEXT NOT NULL UNIQUE,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,  -- API key id
  ip          TEXT NOT NULL,
  action      TEXT NOT NULL,  -- key.create, key.revoke, ioc.upload, ioc.update
  entity_type TEXT NOT NULL,  -- api_key, ioc
  entity_id   TEXT NOT NULL,
  details     TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);
