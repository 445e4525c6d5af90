-- Schema version 3 (SQLite): the database, not a session actor, serialises a session's
-- writes. `last_seq` hands out sequence numbers inside the committing transaction, so writers on
-- different instances cannot collide; `version` grows with every write that changes what an
-- actor caches (context, risk, crisis mode, expiry), so a stale copy is noticed at commit.
-- `awaiting_reply` marks a user message committed before its reply (streamed replies), so
-- recovery can answer it if the reply never comes.
ALTER TABLE sessions ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seq = COALESCE(
    (SELECT MAX(seq) FROM messages WHERE messages.session_id = sessions.id), 0);
ALTER TABLE messages ADD COLUMN awaiting_reply INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_awaiting_reply_idx ON messages (session_id) WHERE awaiting_reply = 1;

INSERT INTO schema_version (version, description) VALUES (3, 'database-side serialisation');
