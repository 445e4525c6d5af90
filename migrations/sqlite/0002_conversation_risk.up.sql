-- Schema version 2 (SQLite): a session's conversation risk. Only the level is readable, like the
-- crisis-mode flag it generalises; the category and severity of a crisis live in the sealed
-- conversation context.
ALTER TABLE sessions ADD COLUMN risk_level TEXT NOT NULL DEFAULT 'none'
    CHECK (risk_level IN ('none', 'elevated', 'crisis'));
UPDATE sessions SET risk_level = 'crisis' WHERE is_crisis_mode = 1;

INSERT INTO schema_version (version, description) VALUES (2, 'conversation risk');
