-- Where IoCs come from and what their licence allows: feeds leave out IoCs whose source
-- forbids redistribution. A source missing here may be redistributed (the API's own uploads).
CREATE TABLE sources (
  name           TEXT PRIMARY KEY,
  reliability    TEXT NOT NULL CHECK (reliability IN ('A', 'B', 'C', 'D', 'E', 'F')),
  licence        TEXT NOT NULL DEFAULT '',
  redistribution INTEGER NOT NULL CHECK (redistribution IN (0, 1)),
  url            TEXT NOT NULL DEFAULT '',
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
) STRICT;

-- One counter that moves with every change to IoCs or sources: the feeds' ETags hash it with
-- their filters, so a feed is revalidated without reading its entries.
CREATE TABLE feed_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
) STRICT;
INSERT INTO feed_version (id, version) VALUES (1, 0);
CREATE TRIGGER iocs_feed_insert AFTER INSERT ON iocs BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER iocs_feed_update AFTER UPDATE ON iocs BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER iocs_feed_delete AFTER DELETE ON iocs BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_feed_insert AFTER INSERT ON sources BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_feed_update AFTER UPDATE ON sources BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_feed_delete AFTER DELETE ON sources BEGIN UPDATE feed_version SET version = version + 1 WHERE id = 1; END;

-- What changed since a time, for the agent-update feed and TAXII's added_after.
CREATE INDEX iocs_updated ON iocs (updated_at, id);

-- Sigma / ATR detection rules that agents fetch; unique by rule id, replaced on re-upload.
CREATE TABLE rules (
  rule_id      TEXT PRIMARY KEY,
  rule_content TEXT NOT NULL,
  source       TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  created_by   TEXT NOT NULL
) STRICT;
CREATE INDEX rules_updated ON rules (updated_at);
