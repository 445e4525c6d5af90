-- Schema version 4 (PostgreSQL): idempotent retries. A request sent with an `Idempotency-Key`
-- claims a row before it runs; its answer is kept for replay. Nothing here is readable: the key and
-- the request are keyed hashes, the answer is sealed (under the session's data key, or for session
-- creation under a key derived from the idempotency key, so a stored token needs that key to read).
CREATE TABLE idempotency_keys (
    key_hash     BYTEA PRIMARY KEY,
    -- The session the answer belongs to; its deletion removes the row with everything else.
    session_id   UUID REFERENCES sessions (id) ON DELETE CASCADE,
    request_hash BYTEA NOT NULL,
    -- NULL while the first request is in flight.
    status       INTEGER,
    response     BYTEA,
    -- An in-flight claim older than this was abandoned (its instance died) and may be taken over.
    lease_until  TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_session_idx ON idempotency_keys (session_id);

INSERT INTO schema_version (version, description) VALUES (4, 'idempotency keys');
