-- PostgreSQL schema, the same as migrations/0007_agent_token_lookup.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Finds the agent a presented token belongs to (a valid token on a route it may not use is 403).
CREATE INDEX agents_by_token ON agents (token_hash);
