DELETE FROM schema_version WHERE version = 6;
DROP TABLE handoff_access_log;
DROP TABLE handoff_entries;
DROP TABLE handoff_keys;
DROP TABLE handoffs;
DELETE FROM messages WHERE role = 'counsellor';
CREATE TABLE messages_old (
    id                 BLOB PRIMARY KEY,
    session_id         BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq                BIGINT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content            BLOB NOT NULL,
    model_used         TEXT,
    processing_time_ms INTEGER,
    is_crisis_detected INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    awaiting_reply     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO messages_old SELECT id, session_id, seq, role, content, model_used, processing_time_ms,
    is_crisis_detected, created_at, updated_at, awaiting_reply FROM messages;
DROP TABLE messages;
ALTER TABLE messages_old RENAME TO messages;
CREATE UNIQUE INDEX messages_session_seq_key ON messages (session_id, seq);
CREATE INDEX messages_awaiting_reply_idx ON messages (session_id) WHERE awaiting_reply = 1;
