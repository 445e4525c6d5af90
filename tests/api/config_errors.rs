//! Tests: config_errors (being written).
