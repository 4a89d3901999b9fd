-- PostgreSQL schema, the same as migrations/0006_threat_correlation_indexes.sql (BIGINT for INTEGER, DOUBLE PRECISION for
-- REAL, byte-order "C" collation as SQLite compares text).
-- Correlation looks for other agents' threats sharing an indicator: index by indicator, then
-- agent, so an agent's own (possibly many) threats are skipped by range instead of scanned.
DROP INDEX threats_by_ip;
DROP INDEX threats_by_hash;
CREATE INDEX threats_by_ip_agent ON threats (source_ip, agent_id, occurred_at) WHERE source_ip IS NOT NULL;
CREATE INDEX threats_by_hash_agent ON threats (file_hash, agent_id, occurred_at) WHERE file_hash IS NOT NULL;
