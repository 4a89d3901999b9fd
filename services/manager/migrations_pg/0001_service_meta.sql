-- PostgreSQL schema, the same as migrations/0001_service_meta.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Facts about this database itself: when it was created and by which version.
CREATE TABLE service_meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);
INSERT INTO service_meta (key, value) VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));

-- The SQLite functions the shared queries use (decision 0032).
CREATE FUNCTION json_each(document TEXT) RETURNS TABLE (value TEXT) LANGUAGE sql IMMUTABLE
  AS $$ SELECT jsonb_array_elements_text(document::jsonb) $$;
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE
  AS $$ SELECT strpos(haystack, needle)::bigint $$;
