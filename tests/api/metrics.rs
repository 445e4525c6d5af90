//! Tests: metrics (being written).
