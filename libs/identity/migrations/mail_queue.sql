-- Mails are queued in the transaction of the change they report, then delivered (SMTP or the
-- outbox directory) after the commit; failed deliveries are retried with backoff. Delivered
-- mails keep no body and are forgotten after a week. See common/mail.hpp.
CREATE TABLE IF NOT EXISTS mail_queue (
  id               INTEGER PRIMARY KEY,
  recipient        TEXT NOT NULL,
  subject          TEXT NOT NULL,
  body             TEXT NOT NULL,
  kind             TEXT NOT NULL,
  created_at       INTEGER NOT NULL,                 -- unix ms
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,                 -- unix s
  claimed_until    INTEGER NOT NULL DEFAULT 0,       -- a sender holds it until then
  sent_at          INTEGER,
  failed_at        INTEGER,                          -- given up after the last attempt
  last_error       TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS mail_queue_due ON mail_queue (sent_at, failed_at, next_attempt_at);
