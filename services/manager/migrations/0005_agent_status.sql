-- The status the sweep last announced, so that it announces only transitions.
ALTER TABLE agents ADD COLUMN last_status TEXT NOT NULL DEFAULT 'online';
