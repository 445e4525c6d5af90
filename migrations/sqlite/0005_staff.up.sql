-- Schema version 5 (SQLite): staff accounts for the counsellor handoff. Nothing here comes from a
-- young person. Passwords are Argon2id PHC strings; sign-in tokens are stored only as their keyed
-- hash (HMAC-SHA-256 under a key derived from SECRET_KEY), never the token.
CREATE TABLE staff (
    id            BLOB PRIMARY KEY,
    -- Lowercase; the name a person signs in with and the CLI manages them by.
    username      TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('counsellor', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX staff_username_key ON staff (username);

CREATE TABLE staff_tokens (
    token_hash BLOB PRIMARY KEY,
    staff_id   BLOB NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX staff_tokens_staff_idx ON staff_tokens (staff_id);
CREATE INDEX staff_tokens_expires_at_idx ON staff_tokens (expires_at);

-- The opening hours an admin set over HTTP; they override `[handoff]` in the configuration. One
-- row at most. `weekly` and `holidays` are JSON arrays of the same strings the configuration takes.
CREATE TABLE opening_hours (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    weekly     TEXT NOT NULL,
    holidays   TEXT NOT NULL,
    updated_by BLOB REFERENCES staff (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO schema_version (version, description) VALUES (5, 'staff');
