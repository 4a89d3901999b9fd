-- Finds the agent a presented token belongs to (a valid token on a route it may not use is 403).
CREATE INDEX agents_by_token ON agents (token_hash);
