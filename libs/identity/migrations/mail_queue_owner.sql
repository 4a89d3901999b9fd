-- The account a queued mail is about. Erasing an account deletes its mails by this column, so
-- mails sent to an earlier address (an email change notifies the old one) go too. NULL for
-- mails queued before this column existed (erasure also matches the current address).
-- Skipped when the column is there already (identity/schema.cpp).
ALTER TABLE mail_queue ADD COLUMN user_id TEXT;
CREATE INDEX IF NOT EXISTS mail_queue_by_user ON mail_queue (user_id);
