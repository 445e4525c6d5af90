DELETE FROM schema_version WHERE version = 2;
ALTER TABLE sessions DROP COLUMN risk_level;
