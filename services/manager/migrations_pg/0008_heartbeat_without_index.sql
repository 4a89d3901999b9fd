-- PostgreSQL schema, the same as migrations/0008_heartbeat_without_index.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Every heartbeat moves last_heartbeat; an index on it cost an index update (and a dirtied
-- page) per heartbeat, for the status filter of the agent list and the push targets, which
-- read at most MANAGER_MAX_AGENTS rows and now scan them.
DROP INDEX agents_by_heartbeat;
