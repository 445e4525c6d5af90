//! Tests: redis_sync (being written).
