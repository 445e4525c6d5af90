DELETE FROM schema_version WHERE version = 4;
DROP TABLE idempotency_keys;
