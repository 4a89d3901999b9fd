-- Forgot-password requests wait here for the background step that looks the address up
-- (identity/deferred.hpp), so the answer does the same work whether an account uses the address
-- or not, and a request acknowledged before a crash is still served after the restart.
CREATE TABLE IF NOT EXISTS reset_requests (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL,
  ip            TEXT NOT NULL,
  requested_at  INTEGER NOT NULL
) STRICT;
