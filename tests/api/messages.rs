//! Tests: messages (being written).
