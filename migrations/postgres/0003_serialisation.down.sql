DELETE FROM schema_version WHERE version = 3;
DROP INDEX messages_awaiting_reply_idx;
ALTER TABLE messages DROP COLUMN awaiting_reply;
ALTER TABLE sessions DROP COLUMN version;
ALTER TABLE sessions DROP COLUMN last_seq;
