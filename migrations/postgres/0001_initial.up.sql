-- Cùng Bạn Lắng Nghe, schema version 1 (PostgreSQL).
-- Nothing a user wrote is stored readable: every such column is AES-256-GCM ciphertext
-- (version ‖ key id ‖ nonce ‖ ciphertext ‖ tag) bound to its row by the AAD.

CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    id             UUID PRIMARY KEY,
    -- HMAC-SHA-256 of the token keyed with SECRET_KEY; the token itself is never stored.
    token_hash     BYTEA NOT NULL,
    language       TEXT NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    is_crisis_mode BOOLEAN NOT NULL DEFAULT FALSE,
    last_activity  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Wrapped per-session data keys live apart from the data they protect so that their backups can
-- be kept for a shorter time than the retention period (crypto-shredding).
CREATE TABLE session_keys (
    session_id  UUID PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    key_id      BIGINT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX session_keys_key_id_idx ON session_keys (key_id);

CREATE TABLE messages (
    id                 UUID PRIMARY KEY,
    session_id         UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- Per-session sequence: exact order even when timestamps are equal.
    seq                BIGINT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content            BYTEA NOT NULL,
    model_used         TEXT,
    processing_time_ms INTEGER,
    is_crisis_detected BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_session_seq_key ON messages (session_id, seq);

CREATE TABLE conversation_context (
    id         UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    context    BYTEA NOT NULL,
    turn_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX conversation_context_session_key ON conversation_context (session_id);

CREATE TABLE feedback (
    id         UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rating     SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    category   TEXT CHECK (category IN ('helpful', 'not_helpful', 'inappropriate', 'other')),
    text       BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX feedback_session_key ON feedback (session_id);

-- Crisis rules are operator-written data, not user text, so they are stored readable.
CREATE TABLE blocked_keywords (
    id         UUID PRIMARY KEY,
    rule_id    TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    category   TEXT NOT NULL,
    severity   TEXT CHECK (severity IN ('medium', 'high', 'critical')),
    language   TEXT NOT NULL DEFAULT 'any',
    kind       TEXT NOT NULL CHECK (kind IN ('phrase', 'exception', 'signal')),
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX blocked_keywords_rule_id_key ON blocked_keywords (rule_id);

CREATE TABLE system_health_metrics (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active_sessions     BIGINT NOT NULL,
    live_session_actors BIGINT NOT NULL,
    messages_interval   BIGINT NOT NULL,
    crisis_interval     BIGINT NOT NULL,
    database_bytes      BIGINT NOT NULL,
    pool_size           INTEGER NOT NULL,
    pool_idle           INTEGER NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX system_health_metrics_created_at_idx ON system_health_metrics (created_at);

CREATE TABLE training_data (
    id         UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    data       BYTEA NOT NULL,
    label      TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX training_data_session_idx ON training_data (session_id);

INSERT INTO schema_version (version, description) VALUES (1, 'initial schema');
