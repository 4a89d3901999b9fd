-- When a drain's deadline passed and what was still stopping on the node was killed: the
-- deadline is enforced once per drain (a new drain or an uncordon clears it).
ALTER TABLE nodes ADD COLUMN drain_enforced_at INTEGER;
