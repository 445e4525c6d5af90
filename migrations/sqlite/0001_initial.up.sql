-- Cùng Bạn Lắng Nghe, schema version 1 (SQLite).
-- Nothing a user wrote is stored readable: every such column is AES-256-GCM ciphertext
-- (version ‖ key id ‖ nonce ‖ ciphertext ‖ tag) bound to its row by the AAD.

CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE sessions (
    id             BLOB PRIMARY KEY,
    -- HMAC-SHA-256 of the token keyed with SECRET_KEY; the token itself is never stored.
    token_hash     BLOB NOT NULL,
    language       TEXT NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    is_crisis_mode INTEGER NOT NULL DEFAULT 0,
    last_activity  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at     TEXT NOT NULL,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Wrapped per-session data keys live apart from the data they protect so that their backups can
-- be kept for a shorter time than the retention period (crypto-shredding).
CREATE TABLE session_keys (
    session_id  BLOB PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    key_id      BIGINT NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX session_keys_key_id_idx ON session_keys (key_id);

CREATE TABLE messages (
    id                 BLOB PRIMARY KEY,
    session_id         BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- Per-session sequence: exact order even when timestamps are equal.
    seq                BIGINT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content            BLOB NOT NULL,
    model_used         TEXT,
    processing_time_ms INTEGER,
    is_crisis_detected INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX messages_session_seq_key ON messages (session_id, seq);

CREATE TABLE conversation_context (
    id         BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    context    BLOB NOT NULL,
    turn_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX conversation_context_session_key ON conversation_context (session_id);

CREATE TABLE feedback (
    id         BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    category   TEXT CHECK (category IN ('helpful', 'not_helpful', 'inappropriate', 'other')),
    text       BLOB,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX feedback_session_key ON feedback (session_id);

-- Crisis rules are operator-written data, not user text, so they are stored readable.
CREATE TABLE blocked_keywords (
    id         BLOB PRIMARY KEY,
    rule_id    TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    category   TEXT NOT NULL,
    severity   TEXT CHECK (severity IN ('medium', 'high', 'critical')),
    language   TEXT NOT NULL DEFAULT 'any',
    kind       TEXT NOT NULL CHECK (kind IN ('phrase', 'exception', 'signal')),
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX blocked_keywords_rule_id_key ON blocked_keywords (rule_id);

CREATE TABLE system_health_metrics (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    active_sessions     BIGINT NOT NULL,
    live_session_actors BIGINT NOT NULL,
    messages_interval   BIGINT NOT NULL,
    crisis_interval     BIGINT NOT NULL,
    database_bytes      BIGINT NOT NULL,
    pool_size           INTEGER NOT NULL,
    pool_idle           INTEGER NOT NULL,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX system_health_metrics_created_at_idx ON system_health_metrics (created_at);

CREATE TABLE training_data (
    id         BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    data       BLOB NOT NULL,
    label      TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX training_data_session_idx ON training_data (session_id);

INSERT INTO schema_version (version, description) VALUES (1, 'initial schema');
