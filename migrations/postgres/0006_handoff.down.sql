DELETE FROM schema_version WHERE version = 6;
DROP TABLE handoff_access_log;
DROP TABLE handoff_entries;
DROP TABLE handoff_keys;
DROP TABLE handoffs;
DELETE FROM messages WHERE role = 'counsellor';
ALTER TABLE messages DROP CONSTRAINT messages_role_check;
ALTER TABLE messages ADD CONSTRAINT messages_role_check CHECK (role IN ('user', 'assistant'));
