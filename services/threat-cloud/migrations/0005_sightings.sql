-- Reports that an IoC was (or was not) seen: positive, negative or false_positive. Each one
-- adjusts the IoC's confidence and status in the same transaction.
CREATE TABLE sightings (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- order only, never exposed
  id          TEXT NOT NULL UNIQUE,
  ioc_id      TEXT NOT NULL REFERENCES iocs (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('positive', 'negative', 'false_positive')),
  source      TEXT NOT NULL,
  note        TEXT,
  observed_at TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  reported_by TEXT NOT NULL
) STRICT;
CREATE INDEX sightings_ioc ON sightings (ioc_id, seq);
