//! Tests: privacy (being written).
