-- PostgreSQL schema, the same as migrations/0007_feeds.sql (BIGINT for INTEGER, byte-order "C"
-- collation as SQLite compares text, identity columns for AUTOINCREMENT).
-- Where IoCs come from and what their licence allows: feeds leave out IoCs whose source
-- forbids redistribution. A source missing here may be redistributed (the API's own uploads).
CREATE TABLE sources (
  name           TEXT COLLATE "C" PRIMARY KEY,
  reliability    TEXT COLLATE "C" NOT NULL CHECK (reliability IN ('A', 'B', 'C', 'D', 'E', 'F')),
  licence        TEXT COLLATE "C" NOT NULL DEFAULT '',
  redistribution BIGINT NOT NULL CHECK (redistribution IN (0, 1)),
  url            TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at     TEXT COLLATE "C" NOT NULL,
  updated_at     TEXT COLLATE "C" NOT NULL
);

-- The feeds' index: every column a blocklist filters on, in the order it is sent, so a feed's
-- fingerprint and its values are read from the index alone, in order, without a sort.
CREATE INDEX iocs_feed ON iocs (type, status, normalized_value, reputation, tlp, source, updated_at);

-- What changed since a time, for the agent-update feed and TAXII's added_after. Entries are
-- (updated_at, rowid), so pages in change order need no sort, and new changes append.
CREATE INDEX iocs_updated ON iocs (updated_at, rowid);

-- Sigma / ATR detection rules that agents fetch; unique by rule id, replaced on re-upload.
CREATE TABLE rules (
  rule_id      TEXT COLLATE "C" PRIMARY KEY,
  rule_content TEXT COLLATE "C" NOT NULL,
  source       TEXT COLLATE "C" NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL,
  updated_at   TEXT COLLATE "C" NOT NULL,
  created_by   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX rules_updated ON rules (updated_at);
