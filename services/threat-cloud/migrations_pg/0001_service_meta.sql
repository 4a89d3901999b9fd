-- PostgreSQL schema, the same as migrations/0001_service_meta.sql (BIGINT for INTEGER, byte-order "C"
-- collation as SQLite compares text, identity columns for AUTOINCREMENT).
-- Facts about this database itself: when it was created and by which version.
CREATE TABLE service_meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);
INSERT INTO service_meta (key, value) VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));

-- The few SQLite functions the shared queries use, over the same text columns (JSON arrays,
-- RFC 3339 times), so that one SQL text serves both backends; what cannot be shared is chosen
-- per backend in the repository code (decision 0032).
-- json_each(array): one row per element, its text in `value`.
CREATE FUNCTION json_each(document TEXT) RETURNS TABLE (value TEXT) LANGUAGE sql IMMUTABLE
  AS $$ SELECT jsonb_array_elements_text(document::jsonb) $$;
-- json_group_array(text): the values as a JSON array (text).
CREATE FUNCTION json_text_array(items TEXT[]) RETURNS TEXT LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(array_to_json(items)::text, '[]') $$;
CREATE AGGREGATE json_group_array(TEXT) (SFUNC = array_append, STYPE = TEXT[], FINALFUNC = json_text_array,
                                         INITCOND = '{}');
-- sum(condition): how many rows meet it (NULL without rows, as in SQLite).
CREATE FUNCTION count_true(total BIGINT, item BOOLEAN) RETURNS BIGINT LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(total, 0) + CASE WHEN item THEN 1 ELSE 0 END $$;
CREATE AGGREGATE sum(BOOLEAN) (SFUNC = count_true, STYPE = BIGINT);
-- strftime(format, time) for %Y %m %d %H %M %S of an RFC 3339 UTC time.
CREATE FUNCTION strftime(format TEXT, at TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE
  AS $$ SELECT replace(replace(replace(replace(replace(replace(format,
       '%Y', to_char(t, 'YYYY')), '%m', to_char(t, 'MM')), '%d', to_char(t, 'DD')),
       '%H', to_char(t, 'HH24')), '%M', to_char(t, 'MI')), '%S', to_char(t, 'SS'))
     FROM (SELECT at::timestamp AS t) AS parsed $$;
-- strftime(format, time, '-6 days', 'weekday 1'): the same for the Monday on or before the time
-- (the only modifiers the queries use; others give NULL).
CREATE FUNCTION strftime(format TEXT, at TEXT, back TEXT, weekday TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN back = '-6 days' AND weekday = 'weekday 1'
       THEN strftime(format, to_char(date_trunc('week', at::timestamp), 'YYYY-MM-DD"T"HH24:MI:SS')) END $$;
