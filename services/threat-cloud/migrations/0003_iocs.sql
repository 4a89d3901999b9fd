-- Indicators of compromise, unique by (type, normalized_value). Timestamps are RFC 3339 UTC
-- text with whole seconds, so they sort and compare as text. tags and mitre_techniques are
-- JSON arrays, metadata a JSON object.
CREATE TABLE iocs (
  id                 TEXT PRIMARY KEY,
  type               TEXT NOT NULL CHECK (type IN ('ip', 'domain', 'url', 'hash_md5', 'hash_sha1', 'hash_sha256', 'email', 'cve')),
  value              TEXT NOT NULL,
  normalized_value   TEXT NOT NULL,
  threat_type        TEXT NOT NULL,
  source             TEXT NOT NULL,
  source_reliability TEXT NOT NULL CHECK (source_reliability IN ('A', 'B', 'C', 'D', 'E', 'F')),
  confidence         INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 100),
  reputation         INTEGER NOT NULL CHECK (reputation BETWEEN 0 AND 100),
  tlp                TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
  first_seen         TEXT NOT NULL,
  last_seen          TEXT NOT NULL,
  sightings          INTEGER NOT NULL DEFAULT 1,
  status             TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked', 'under_review')),
  tags               TEXT NOT NULL DEFAULT '[]',
  mitre_techniques   TEXT NOT NULL DEFAULT '[]',
  country            TEXT,
  asn                INTEGER,
  metadata           TEXT NOT NULL DEFAULT '{}',
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  UNIQUE (type, normalized_value)
) STRICT;
CREATE INDEX iocs_normalized ON iocs (normalized_value);
CREATE INDEX iocs_last_seen ON iocs (last_seen);
CREATE INDEX iocs_type_reputation ON iocs (type, reputation);
CREATE INDEX iocs_source ON iocs (source);
