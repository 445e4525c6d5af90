//! Tests: migrations (being written).
