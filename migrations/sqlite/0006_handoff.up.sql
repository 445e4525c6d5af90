-- Schema version 6 (SQLite): handoff to a counsellor. Only ids, states, times and levels are
-- readable. What the young person shares and what is said while a counsellor is assigned is sealed
-- under a key of the handoff's own (wrapped by the master key, like a session's data key), so
-- staff never need the session's key, and deleting that one key shreds everything staff could read.
CREATE TABLE handoffs (
    id          BLOB PRIMARY KEY,
    -- Deleting the session ends its handoffs and shreds their keys and material at once.
    session_id  BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'assigned', 'closed', 'cancelled')),
    share       TEXT NOT NULL CHECK (share IN ('none', 'summary', 'selected')),
    -- The conversation's risk level (as sessions.risk_level), for the queue's order.
    risk        TEXT NOT NULL DEFAULT 'none' CHECK (risk IN ('none', 'elevated', 'crisis')),
    language    TEXT NOT NULL CHECK (language IN ('vi', 'en')),
    claimed_by  BLOB,
    claimed_at  TEXT,
    closed_at   TEXT,
    outcome     TEXT CHECK (outcome IN ('resolved', 'referred', 'emergency', 'no_response', 'other', 'left')),
    -- When the key and the sealed material are destroyed (set when the handoff ends).
    shred_after TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- At most one open handoff per session.
CREATE UNIQUE INDEX handoffs_open_session_key ON handoffs (session_id)
    WHERE status IN ('queued', 'assigned');
CREATE INDEX handoffs_status_idx ON handoffs (status);
CREATE INDEX handoffs_shred_after_idx ON handoffs (shred_after) WHERE shred_after IS NOT NULL;

CREATE TABLE handoff_keys (
    handoff_id  BLOB PRIMARY KEY REFERENCES handoffs (id) ON DELETE CASCADE,
    key_id      BIGINT NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- What a counsellor may read: the shared material, then the conversation after the claim.
CREATE TABLE handoff_entries (
    id         BLOB PRIMARY KEY,
    handoff_id BLOB NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'counsellor', 'note')),
    -- The session message it copies, when it copies one (for the person's history ids).
    message_id BLOB,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX handoff_entries_seq_key ON handoff_entries (handoff_id, seq);

-- Who did what to which handoff and when: ids and actions only. Kept after the handoff is gone.
CREATE TABLE handoff_access_log (
    id         BLOB PRIMARY KEY,
    staff_id   BLOB,
    handoff_id BLOB NOT NULL,
    action     TEXT NOT NULL,
    at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX handoff_access_log_handoff_idx ON handoff_access_log (handoff_id);

-- Counsellors write in the person's history too (sealed under the session's key like every
-- message): the role check admits them. SQLite cannot alter a check, so the table is rebuilt.
CREATE TABLE messages_new (
    id                 BLOB PRIMARY KEY,
    session_id         BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq                BIGINT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'counsellor')),
    content            BLOB NOT NULL,
    model_used         TEXT,
    processing_time_ms INTEGER,
    is_crisis_detected INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    awaiting_reply     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO messages_new (id, session_id, seq, role, content, model_used, processing_time_ms,
    is_crisis_detected, created_at, updated_at, awaiting_reply)
    SELECT id, session_id, seq, role, content, model_used, processing_time_ms,
    is_crisis_detected, created_at, updated_at, awaiting_reply FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE UNIQUE INDEX messages_session_seq_key ON messages (session_id, seq);
CREATE INDEX messages_awaiting_reply_idx ON messages (session_id) WHERE awaiting_reply = 1;

INSERT INTO schema_version (version, description) VALUES (6, 'handoff to a counsellor');
