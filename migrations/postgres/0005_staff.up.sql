-- Schema version 5 (PostgreSQL): staff accounts for the counsellor handoff. Nothing here comes from
-- a young person. Passwords are Argon2id PHC strings; sign-in tokens are stored only as their keyed
-- hash (HMAC-SHA-256 under a key derived from SECRET_KEY), never the token.
CREATE TABLE staff (
    id            UUID PRIMARY KEY,
    -- Lowercase; the name a person signs in with and the CLI manages them by.
    username      TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('counsellor', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_username_key ON staff (username);

CREATE TABLE staff_tokens (
    token_hash BYTEA PRIMARY KEY,
    staff_id   UUID NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX staff_tokens_staff_idx ON staff_tokens (staff_id);
CREATE INDEX staff_tokens_expires_at_idx ON staff_tokens (expires_at);

-- The opening hours an admin set over HTTP; they override `[handoff]` in the configuration. One
-- row at most. `weekly` and `holidays` are JSON arrays of the same strings the configuration takes.
CREATE TABLE opening_hours (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    weekly     TEXT NOT NULL,
    holidays   TEXT NOT NULL,
    updated_by UUID REFERENCES staff (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO schema_version (version, description) VALUES (5, 'staff');
