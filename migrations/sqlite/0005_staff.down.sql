DELETE FROM schema_version WHERE version = 5;
DROP TABLE opening_hours;
DROP TABLE staff_tokens;
DROP TABLE staff;
