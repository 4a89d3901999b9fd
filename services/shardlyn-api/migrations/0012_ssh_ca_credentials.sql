-- The SSH certificate authority (sshca/): its ed25519 keys, the private seed sealed with
-- AES-256-GCM under a key derived from SHARDLYN_ENCRYPTION_KEY (the key id as associated data),
-- and the user certificates they signed. One key is active; a rotated key is retired and stays
-- trusted until the last certificate it signed expires.
CREATE TABLE ssh_ca_keys (
  id           TEXT PRIMARY KEY,                  -- UUID
  public_key   TEXT NOT NULL,                     -- "ssh-ed25519 AAAA... shardlyn-ca-<id>"
  fingerprint  TEXT NOT NULL,                     -- SHA256:...
  sealed_seed  TEXT NOT NULL,                     -- base64(nonce || ciphertext || tag)
  active       INTEGER NOT NULL,                  -- 1 for the signing key, 0 once retired
  created_at   INTEGER NOT NULL,
  retired_at   INTEGER
);
CREATE UNIQUE INDEX ssh_ca_keys_one_active ON ssh_ca_keys (active) WHERE active = 1;

CREATE TABLE ssh_certificates (
  id            TEXT PRIMARY KEY,                 -- UUID
  org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id       TEXT NOT NULL,
  ca_key_id     TEXT NOT NULL REFERENCES ssh_ca_keys (id),
  serial        INTEGER NOT NULL UNIQUE,          -- 63-bit, never 0 (KRLs cannot name serial 0)
  key_id        TEXT NOT NULL,
  principals    TEXT NOT NULL,                    -- JSON array of strings
  key_type      TEXT NOT NULL,
  key_fingerprint TEXT NOT NULL,
  certificate   TEXT NOT NULL,                    -- the OpenSSH certificate line
  node_id       TEXT,
  valid_after   INTEGER NOT NULL,
  valid_before  INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX ssh_certificates_by_org ON ssh_certificates (org_id, created_at);
CREATE INDEX ssh_certificates_by_key ON ssh_certificates (ca_key_id, valid_before);

-- Cloud provider credentials (credentials/): the secret fields as one JSON object sealed with
-- AES-256-GCM under a key derived from SHARDLYN_ENCRYPTION_KEY (the credential id as associated
-- data); only a masked hint is ever shown. One default per provider per organisation.
CREATE TABLE credentials (
  id             TEXT PRIMARY KEY,                -- UUID
  org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  provider       TEXT NOT NULL,                   -- aws, gcp, hetzner, oci, cloudflare, steam
  name           TEXT NOT NULL,
  sealed_secret  TEXT NOT NULL,                   -- base64(nonce || ciphertext || tag)
  hint           TEXT NOT NULL,                   -- e.g. "****abcd"
  is_default     INTEGER NOT NULL DEFAULT 0,
  created_by     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  verified_at    INTEGER,
  verify_valid   INTEGER,                         -- 1 accepted, 0 refused by the provider
  verify_message TEXT,
  UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX credentials_one_default ON credentials (org_id, provider) WHERE is_default = 1;
