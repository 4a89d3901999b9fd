-- PostgreSQL schema, the same as migrations/0005_agent_status.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- The status the sweep last announced, so that it announces only transitions.
ALTER TABLE agents ADD COLUMN last_status TEXT COLLATE "C" NOT NULL DEFAULT 'online';
