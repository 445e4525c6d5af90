//! Tests: feedback (being written).
