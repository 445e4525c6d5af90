//! Tests: rate_limits (being written).
